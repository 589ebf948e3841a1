"""Trigram indexes for finding contact persons by name, e-mail and phone from the customer search.

PostgreSQL only, like 0003_customer_search_indexes (which also created the pg_trgm extension).
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """AddIndex that touches the database only on PostgreSQL (a copy of 0003's: migrations do not import each other)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def deconstruct(self):
        # Serialise as a plain AddIndex so the autodetector's view of history is unchanged.
        _name, args, kwargs = super().deconstruct()
        return "AddIndex", args, kwargs


def trigram(expression):
    return django.contrib.postgres.indexes.OpClass(expression, name="gin_trgm_ops")


def upper(field):
    return django.db.models.functions.text.Upper(field)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_personal_text_fields"),
    ]

    operations = [
        AddIndexOnPostgreSQL(
            model_name="contactperson",
            index=django.contrib.postgres.indexes.GinIndex(
                trigram(upper("first_name")), name="contact_first_name_trgm"
            ),
        ),
        AddIndexOnPostgreSQL(
            model_name="contactperson",
            index=django.contrib.postgres.indexes.GinIndex(trigram(upper("last_name")), name="contact_last_name_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="contactperson",
            index=django.contrib.postgres.indexes.GinIndex(trigram(upper("email")), name="contact_email_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="contactperson",
            index=django.contrib.postgres.indexes.GinIndex(trigram("phone"), name="contact_phone_trgm"),
        ),
    ]
