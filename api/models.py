"""Integration API clients: machines that call /api/v1/ with a key of their own.

A client is a machine user (a Django user in the `integration clients` group, with no password) plus a key,
hashed by djangorestframework-api-key and shown once. What it may read or write is that user's memberships
with the machine roles (registers.roles.MACHINE_ROLES), so every selector, service and the yearly access
review treat it exactly as they treat a person: no rule of the API's own decides what it sees.
"""

import ipaddress
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from registers.fields import PersonalCharField, PersonalTextField


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of `allowed_networks`, one address or CIDR network per line; raise ValueError on a bad line."""
    return [ipaddress.ip_network(line.strip(), strict=False) for line in text.splitlines() if line.strip()]


class APIClientManager(APIKeyManager):
    def get_usable_keys(self):
        # Every call acts as the client's machine user: read it with the key, not in a query of its own.
        return super().get_usable_keys().select_related("user")


class APIClient(AbstractAPIKey):
    # The package's own name field, as a text field of this project: free text refuses identity codes.
    name = PersonalCharField(_("name"), max_length=50)
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
        verbose_name=_("machine user"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_api_clients",
        verbose_name=_("responsible person"),
        help_text=_("The person who answers for this integration and is asked about it in the access review."),
    )
    description = PersonalTextField(_("purpose"), blank=True)
    allowed_networks = models.TextField(
        _("allowed source addresses"),
        blank=True,
        max_length=2000,
        help_text=_("One address or network (CIDR) per line. Empty: calls are accepted from any address."),
    )
    rate_per_minute = models.PositiveIntegerField(_("calls per minute"), default=600)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = PersonalCharField(_("reason for revoking"), max_length=300, blank=True)

    objects = APIClientManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("integration client")
        verbose_name_plural = _("integration clients")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            parse_networks(self.allowed_networks)
        except ValueError:
            raise ValidationError(
                {"allowed_networks": _("Give one IP address or network (such as 192.0.2.0/24) per line.")}
            ) from None
        if self.rate_per_minute < 1:
            raise ValidationError({"rate_per_minute": _("Allow at least one call a minute.")})

    def address_allowed(self, address: str | None) -> bool:
        networks = parse_networks(self.allowed_networks)
        if not networks:
            return True
        try:
            parsed = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(parsed in network for network in networks)

    @property
    def usable(self) -> bool:
        return not self.revoked and not self.has_expired and self.user.is_active

    @property
    def expires_on(self):
        return timezone.localdate(self.expiry_date) if self.expiry_date else None
