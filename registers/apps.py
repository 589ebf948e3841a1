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
        self._chain_audit_trail()

    def _chain_audit_trail(self) -> None:
        # The trail of who changed, saw and signed in (issue 22): django-auditlog's entries and django-axes' logs.
        from auditlog.models import LogEntry
        from axes.models import AccessFailureLog, AccessLog
        from django.contrib.auth.signals import user_logged_out

        from . import audit_chain

        for model in (LogEntry, AccessLog, AccessFailureLog):
            audit_chain.chain(model)
        audit_chain.connect_chain_start(self)
        from .backup import database_restored

        database_restored.connect(audit_chain.restored_anchor, dispatch_uid="registers.audit_chain.restored")
        # axes sets the logout time with an UPDATE that sends no signal; its receiver runs before this one.
        user_logged_out.connect(audit_chain.logouts_link, dispatch_uid="registers.audit_chain.logouts")
