"""Trigram indexes for substring search of customers.

PostgreSQL only: `pg_trgm` and GIN do not exist in SQLite (the quick start's
database), where the operations below change the migration state but create
nothing. `CREATE EXTENSION pg_trgm` needs no superuser: the extension is
trusted since PostgreSQL 13.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """AddIndex that touches the database only on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def deconstruct(self):
        # Serialise as a plain AddIndex so the autodetector's view of history is unchanged.
        name, args, kwargs = super().deconstruct()
        return "AddIndex", args, kwargs


def trigram(expression):
    return django.contrib.postgres.indexes.OpClass(expression, name="gin_trgm_ops")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_initial"),
    ]

    operations = [
        # TrigramExtension is skipped by Django itself on other databases.
        TrigramExtension(),
        AddIndexOnPostgreSQL(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(trigram("sort_name"), name="customer_name_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(
                trigram(django.db.models.functions.text.Upper("email")), name="customer_email_trgm"
            ),
        ),
        AddIndexOnPostgreSQL(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(trigram("business_id"), name="customer_business_id_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(trigram("mobile"), name="customer_mobile_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(trigram("landline"), name="customer_landline_trgm"),
        ),
    ]
