"""An index for the front page's "customers you opened recently" (crm.selectors.customer_recent_list).

The list reads the user's newest access entries of customers from django-auditlog's
log. With only the log's own indexes PostgreSQL walks the timestamp index backwards
and filters on the actor: for a user who has opened no customer yet that is the
whole log (2.6 s at 1,000,000 entries). This partial index holds access entries
only, by actor, kind of row and time, so the lookup reads at most the rows it
returns. PostgreSQL only, like the log indexes of registers 0012: SQLite is the
quick start's database.
"""

from django.db import migrations

INDEX = "logentry_actor_access_recent"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON auditlog_logentry "
        '(actor_id, content_type_id, "timestamp" DESC) WHERE action = 3'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_customer_lookup_indexes"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
