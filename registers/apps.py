from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "registers"
    verbose_name = _("Registers")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import Membership, Organisation, Register

        auditlog.register(Organisation)
        auditlog.register(Register)
        auditlog.register(Membership)
