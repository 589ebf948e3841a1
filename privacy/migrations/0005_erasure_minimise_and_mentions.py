import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0004_personal_text_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="erasureaction",
            name="action",
            field=models.CharField(
                choices=[
                    ("delete", "delete"),
                    ("anonymise", "anonymise"),
                    ("keep", "keep"),
                    ("minimise", "keep only what the ground needs"),
                    ("mention", "names the person"),
                ],
                max_length=20,
                verbose_name="action",
            ),
        ),
        migrations.AddField(
            model_name="erasureaction",
            name="fields",
            field=models.JSONField(blank=True, default=list, verbose_name="fields"),
        ),
        migrations.AddField(
            model_name="erasureaction",
            name="decision",
            field=models.CharField(
                blank=True,
                choices=[("redact", "remove the mention"), ("keep", "keep the text as it is")],
                max_length=10,
                verbose_name="decision",
            ),
        ),
        migrations.AddField(
            model_name="erasureaction",
            name="decision_note",
            field=models.TextField(blank=True, max_length=2000, verbose_name="reason for the decision"),
        ),
        migrations.AddField(
            model_name="erasureaction",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="erasureaction",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="decided"),
        ),
    ]
