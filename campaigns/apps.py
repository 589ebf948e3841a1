from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Campaign e-mail to a segment that honours objections, with one-click objection and bounces (issue 18)."""

    name = "campaigns"
    verbose_name = _("Campaign e-mail")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Campaign, exclude_fields=["updated_at", "sent_count", "skipped_count"])
        auditlog.register(
            models.BounceMailbox,
            # The password is never written to the trail; the read position and poll state change every run.
            exclude_fields=[
                "sealed_password",
                "uid_validity",
                "last_uid",
                "last_polled_at",
                "last_problems",
                "updated_at",
            ],
        )
