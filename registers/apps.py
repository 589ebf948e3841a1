from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "registers"
    verbose_name = _("Registers")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth.signals import user_logged_in

        from .access import connect_signals
        from .language import language_from_profile
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
        # A request's answer to "what may this user do" is dropped when a row it was read from changes.
        connect_signals()
        # A UI preference, not a business rule: the session follows the user's chosen language.
        user_logged_in.connect(language_from_profile, dispatch_uid="registers.language_from_profile")
