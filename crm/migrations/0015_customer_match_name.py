"""The match form of a customer's name, for duplicate detection (issue 16).

SQLite adds the column in place (as 0011 does): remaking the table would recreate the PostgreSQL-only
trigram indexes of the model's state. Existing rows get their match name in batches; the trigram index
exists on PostgreSQL only (as 0003's).
"""

import django.contrib.postgres.indexes
from django.db import migrations

import registers.fields
from crm.migrations._operations import AddFieldInPlace
from crm.similarity import match_name

BATCH_SIZE = 2000


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """AddIndex that touches the database only on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def deconstruct(self):
        _name, args, kwargs = super().deconstruct()
        return "AddIndex", args, kwargs


def fill_match_names(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    last_pk = 0
    while True:
        rows = list(
            Customer.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "kind", "organisation_name", "first_name", "last_name")[:BATCH_SIZE]
        )
        if not rows:
            return
        # A bulk update without the model's save(): match names are derived data, not a change to audit.
        Customer.objects.bulk_update(
            [Customer(pk=pk, match_name=match_name(kind, org, first, last)) for pk, kind, org, first, last in rows],
            ["match_name"],
        )
        last_pk = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0014_customer_alias"),
        ("registers", "0014_register_company_updates"),
    ]

    operations = [
        AddFieldInPlace(
            model_name="customer",
            name="match_name",
            field=registers.fields.PersonalCharField(blank=True, default="", editable=False, max_length=300),
        ),
        migrations.RunPython(fill_match_names, migrations.RunPython.noop, elidable=True),
        AddIndexOnPostgreSQL(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("match_name", name="gin_trgm_ops"),
                name="customer_match_name_trgm",
            ),
        ),
    ]
