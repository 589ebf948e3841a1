from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    """Saved views (segments) and bulk actions on a register's customers (issue 18)."""

    name = "segments"
    verbose_name = _("Segments and bulk actions")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.SavedView, exclude_fields=["updated_at"])
        # A bulk action is audited as one entry with its count (services), not one entry per changed row.
        auditlog.register(models.BulkAction, include_fields=["state", "total", "changed"])
