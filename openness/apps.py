from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpennessConfig(AppConfig):
    name = "openness"
    verbose_name = _("document requests (Openness Act)")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import DocumentRequest

        auditlog.register(DocumentRequest, exclude_fields=["updated_at"], m2m_fields={"registers"})
