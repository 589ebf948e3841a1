from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    """Follow-ups (tasks) on customers and contact persons, "my follow-ups" and the daily digest (issue 18)."""

    name = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from crm import timeline as crm_timeline

        from . import models, timeline

        auditlog.register(models.FollowUp, exclude_fields=["updated_at"])
        crm_timeline.register(timeline.LETTER, rows=timeline.rows, present=timeline.present)
