from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("integration API")

    def ready(self):
        from auditlog.registry import auditlog

        from . import schema  # noqa: F401  (registers the OpenAPI description of the key authentication)
        from .models import APIClient

        # The key's hash never goes into the trail: it is what a stolen trail would be tried against. The key
        # package's prefix and creation time never change, and its revoked flag is told by revoked_at, _by and
        # the reason, which carry the project's labels.
        auditlog.register(
            APIClient, exclude_fields=["id", "hashed_key", "last_used_at", "prefix", "created", "revoked"]
        )
