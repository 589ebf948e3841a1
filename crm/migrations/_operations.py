"""Migration operations shared by the crm migrations (the leading underscore keeps the loader from taking it for one)."""

from django.db import migrations


class AddFieldInPlace(migrations.AddField):
    """AddField that SQLite runs as ALTER TABLE ADD COLUMN instead of remaking the table.

    Remaking a crm table on SQLite would recreate the PostgreSQL-only trigram indexes of the model's state.
    """

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
        _name, args, kwargs = super().deconstruct()
        return "AddField", args, kwargs
