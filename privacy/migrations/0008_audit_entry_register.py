"""Store the register on the change entries of privacy's rows written before entries carried it.

See registers/migrations/0012_audit_entry_register.py. A data-subject request
and its response package span registers, so only the confirmed matches (one
register each) get one.
"""

from django.db import migrations

from registers.audit_scope import backfill_entry_registers

PATHS = {
    "privacy.SubjectMatch": ("register",),
}


def backfill(apps, schema_editor):
    backfill_entry_registers(apps, PATHS)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_audit_entry_register"),
        ("privacy", "0007_field_labels"),
        ("registers", "0012_audit_entry_register"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
