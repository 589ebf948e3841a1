"""The company register's facts on a customer (issue 15).

SQLite adds a NOT NULL column by copying the whole table, and the copy recreates every index of the model's
state, the PostgreSQL-only trigram indexes included (0003, 0005), which SQLite cannot create. There the
columns are added in place, with their default; PostgreSQL takes the plain AddField.
"""

from django.db import migrations, models


from crm.migrations._operations import AddFieldInPlace


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
