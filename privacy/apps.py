from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models
        from .requests import tasks  # noqa: F401  connects the outbox receivers

        # The workflow's own trail is RequestEvent; auditlog keeps the field
        # diffs of the case file and of what the handler confirmed.
        auditlog.register(models.DataSubjectRequest, exclude_fields=["updated_at", "dedupe_key"])
        auditlog.register(models.SubjectMatch)
        auditlog.register(models.ResponsePackage)
