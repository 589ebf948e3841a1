from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    """How the contact-centre archive fills itself (issue 17): mailboxes, drop folders, uploads, recording lists."""

    name = "archive"
    verbose_name = _("Contact-centre archive intake")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models, signals  # noqa: F401 - the signal handlers remove the files of purged messages

        # The password is never written to the trail, not even sealed; the poll state changes every run.
        auditlog.register(
            models.Mailbox, exclude_fields=["sealed_password", "last_polled_at", "last_problems", "updated_at"]
        )
