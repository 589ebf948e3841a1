from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "registers"
    verbose_name = _("Registers")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import (
            AccessReview,
            AccessReviewItem,
            ConfidentialityCommitment,
            Membership,
            Organisation,
            Register,
        )

        auditlog.register(Organisation)
        auditlog.register(Register)
        auditlog.register(Membership)
        auditlog.register(ConfidentialityCommitment)
        auditlog.register(AccessReview, exclude_fields=["updated_at", "last_reminded_at"])
        auditlog.register(AccessReviewItem)
