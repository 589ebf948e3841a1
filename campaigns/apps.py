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

        from privacy.rights.erasure import customer_data_erased

        customer_data_erased.connect(_erase_recipients, dispatch_uid="campaigns.recipients_erase")


def _erase_recipients(sender, customer_pks, **kwargs) -> None:
    # A customer kept only for a claim (erasure minimised it) keeps no campaign rows: they hold the person's
    # address and the campaigns they were sent. The outgoing e-mails on the timeline went with the interactions.
    from .models import CampaignRecipient

    CampaignRecipient.objects.filter(customer_id__in=customer_pks).delete()
