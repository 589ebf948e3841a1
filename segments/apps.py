from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    """Bulk actions on a selection or a saved view of a register's customers, and the saved views' pages (issue 18)."""

    name = "segments"
    verbose_name = _("Segments and bulk actions")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # A bulk action is audited as one entry with its count (services), not one entry per changed row.
        auditlog.register(models.BulkAction, include_fields=["state", "total", "changed"])
