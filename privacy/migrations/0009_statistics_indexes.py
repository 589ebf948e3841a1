"""Indexes for the statistics page (privacy.statistics.selectors), which counts a register's rows per period.

The page counts the interactions of a year by month and kind, and the customers created up to the end of
the year. With only the tables' own indexes PostgreSQL reads the whole interaction table (1,000,000 rows
at 100,000 customers) to keep one year of it. These indexes hold exactly the columns the counts read, so
each count is an index-only range scan of the period's rows: interactions by time with their customer
(for the register) and kind, customers by register and creation time. PostgreSQL only (INCLUDE), like the
log indexes of registers 0012: SQLite is the quick start's database.
"""

from django.db import migrations

INDEXES = {
    "interaction_occurred_stats": "crm_interaction (occurred_at) INCLUDE (customer_id, kind)",
    "customer_register_created": "crm_customer (register_id, created_at)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_recent_customers_index"),
        ("privacy", "0008_audit_entry_register"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
