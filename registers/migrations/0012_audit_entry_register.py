"""Store the register on the change entries of the registers app's rows, and index the audit screens' queries.

The owner's change screen filters on `additional_data -> 'register'` (see
`registers.audit_scope`); entries written before carry no register, so it is
computed here the way the screen used to find them: live rows through their
foreign keys, deleted rows through their delete entries. crm and privacy
back-fill their own models in their migrations of the same name.

The two partial indexes serve the first page of the change and the access
screens (register, newest first) without sorting the register's entries; they
are PostgreSQL expressions, so SQLite gets none.
"""

from django.db import migrations

from registers.audit_scope import backfill_entry_registers

PATHS = {
    "registers.Register": (),
    "registers.Membership": ("register",),
    "registers.AccessReview": ("register",),
    "registers.AccessReviewItem": ("review", "register"),
}

# The expression and predicates are the SQL Django writes for `additional_data__register=<pk>` with
# `action=3` (access) or `action__in=(0, 1, 2)` (changes), ordered by `-timestamp, -pk`.
INDEXES = {
    "auditlog_logentry_access_register_idx": "action = 3",
    "auditlog_logentry_change_register_idx": "action IN (0, 1, 2)",
}


def backfill(apps, schema_editor):
    backfill_entry_registers(apps, PATHS)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, predicate in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON auditlog_logentry "
            f"((additional_data -> 'register'), timestamp DESC, id DESC) WHERE {predicate}"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("registers", "0011_field_labels"),
    ]

    operations = [
        # Entries already carrying a register are left as they are, so going back needs nothing undone.
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
