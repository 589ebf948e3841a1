"""The company register's facts on a customer (issue 15).

SQLite adds a NOT NULL column by copying the whole table, and the copy recreates every index of the model's
state, the PostgreSQL-only trigram indexes included (0003, 0005), which SQLite cannot create. There the
columns are added in place, with their default; PostgreSQL takes the plain AddField.
"""

from django.db import migrations, models


class AddFieldInPlace(migrations.AddField):
    """AddField that SQLite runs as ALTER TABLE ADD COLUMN instead of remaking the table."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        definition, params = schema_editor.column_sql(model, field, include_default=True)
        table, column = schema_editor.quote_name(model._meta.db_table), schema_editor.quote_name(field.column)
        schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}", params)
        return None

    def deconstruct(self):
        # Serialised as a plain AddField, so the autodetector's view of history is unchanged.
        name, args, kwargs = super().deconstruct()
        return "AddField", args, kwargs


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0010_customer_source_imported"),
    ]

    operations = [
        AddFieldInPlace(
            model_name="customer",
            name="company_data_fetched_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="company register details fetched"),
        ),
        AddFieldInPlace(
            model_name="customer",
            name="company_facts",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="company register details"),
        ),
        AddFieldInPlace(
            model_name="customer",
            name="company_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("active", "Active"),
                    ("liquidation", "In liquidation"),
                    ("bankruptcy", "In bankruptcy"),
                    ("restructuring", "In restructuring"),
                    ("ceased", "Ceased"),
                ],
                max_length=20,
                verbose_name="status in the company register",
            ),
        ),
    ]
