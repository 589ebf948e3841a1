from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpennessConfig(AppConfig):
    name = "openness"
    verbose_name = _("document requests (Openness Act)")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from registers import audit_chain

        from .models import DocumentRequest, DocumentRequestEvent

        auditlog.register(DocumentRequest, exclude_fields=["updated_at"], m2m_fields={"registers"})
        audit_chain.chain(DocumentRequestEvent)
