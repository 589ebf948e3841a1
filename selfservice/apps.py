from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfServiceConfig(AppConfig):
    name = "selfservice"
    verbose_name = _("identified self-service")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth.signals import user_logged_in

        from .models import IdentityLink, SubjectIdentity
        from .session import subject_session_end_on_staff_sign_in

        # The provider's name and e-mail are the provider's, refreshed at every sign-in: the trail keeps who was
        # linked, when and at which level, not a copy of personal data that an erasure or the retention must reach.
        auditlog.register(
            SubjectIdentity, exclude_fields=["updated_at", "last_signed_in_at", "first_name", "last_name", "email"]
        )
        auditlog.register(IdentityLink, exclude_fields=["updated_at"])
        # A browser is one person's at a time: a staff sign-in ends the data subject's session in it.
        user_logged_in.connect(subject_session_end_on_staff_sign_in, dispatch_uid="selfservice.staff_sign_in")
