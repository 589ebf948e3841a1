"""An index for the access review's "last access to the register" of each user (registers.access_review).

The review shows, per user, the newest access entry of the register in django-auditlog's log. Taking the
maximum over the register's access entries read all of them (500,000 at 1,000,000 log entries, about a
second for a register of 200 users). This partial index holds access entries by actor, register and time,
so each user's newest entry is the first row of one index probe. The expression is the SQL Django writes
for `additional_data__register=<pk>`, as in 0012. PostgreSQL only: SQLite is the quick start's database.
"""

from django.db import migrations

INDEX = "logentry_access_actor_register_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON auditlog_logentry "
        "(actor_id, (additional_data -> 'register'), \"timestamp\" DESC) WHERE action = 3"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("auditlog", "0017_add_actor_email"),
        ("registers", "0012_audit_entry_register"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
