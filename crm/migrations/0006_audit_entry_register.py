"""Store the register on the change entries of crm's rows written before entries carried it.

See registers/migrations/0012_audit_entry_register.py: live rows give their
register through their foreign keys, deleted rows through their delete entries.
"""

from django.db import migrations

from registers.audit_scope import backfill_entry_registers

PATHS = {
    "crm.Customer": ("register",),
    "crm.ContactPerson": ("customer", "register"),
    "crm.Interaction": ("customer", "register"),
    "crm.Invoice": ("customer", "register"),
    "crm.OrderingClient": ("register",),
    "crm.ContactCentreMessage": ("register",),
    "crm.CallRecording": ("register",),
}


def backfill(apps, schema_editor):
    backfill_entry_registers(apps, PATHS)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_contact_person_search_indexes"),
        ("registers", "0012_audit_entry_register"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
