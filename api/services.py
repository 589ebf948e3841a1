"""Creating, scoping and revoking integration clients: main users only, each step audited."""

import datetime
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.audit_context import set_actor
from registers.models import Membership, Register
from registers.services import integration_scope_grant, is_main_user, membership_end

from .models import APIClient

ERROR_MAIN_USERS_ONLY = _("Only a main user manages integration clients.")
# A client that holds a key for ever is a door nobody remembers: every key ends within this many days.
MAX_VALIDITY_DAYS = 366


def _require_main_user(actor) -> None:
    if not is_main_user(actor):
        raise PermissionDenied(ERROR_MAIN_USERS_ONLY)


def _expiry_moment(expires_on: datetime.date) -> datetime.datetime:
    """The key works through the whole of its last day, in the organisation's time zone."""
    end = datetime.datetime.combine(expires_on, datetime.time.max)
    return timezone.make_aware(end)


def _check_expiry(expires_on: datetime.date) -> None:
    today = timezone.localdate()
    if expires_on < today:
        raise ValidationError({"expires_on": _("The expiry date has passed.")})
    if expires_on > today + datetime.timedelta(days=MAX_VALIDITY_DAYS):
        raise ValidationError({"expires_on": _("A key is valid for a year at most; renew it when it ends.")})


def _scopes_grant(*, actor, client: APIClient, scopes: dict[Register, str], reason: str) -> None:
    for register, role in scopes.items():
        if role not in roles.MACHINE_ROLES:
            raise ValidationError({"scopes": _("Unknown scope.")})
        integration_scope_grant(
            actor=actor, user=client.user, register=register, role=role, ends_on=client.expires_on, reason=reason
        )


@transaction.atomic
def api_client_create(
    *,
    actor,
    name: str,
    owner,
    scopes: dict[Register, str],
    expires_on: datetime.date,
    allowed_networks: str = "",
    rate_per_minute: int = 600,
    description: str = "",
) -> tuple[APIClient, str]:
    """Create a client with its machine user and scopes; return it with its key, which is never shown again."""
    _require_main_user(actor)
    _check_expiry(expires_on)
    if not scopes:
        raise ValidationError({"scopes": _("Give the client at least one register to read or write.")})
    # The trails name the actor by username: the client's name in it tells a reader which integration acted.
    username = f"api-{slugify(name)[:100] or 'client'}-{uuid.uuid4().hex[:6]}"
    user = get_user_model()(username=username, first_name=name[:150], is_active=True)
    user.set_unusable_password()
    user.save()
    group, _created = Group.objects.get_or_create(name=roles.INTEGRATION_CLIENTS_GROUP)
    user.groups.add(group)
    client = APIClient(
        name=name,
        owner=owner,
        user=user,
        description=description,
        allowed_networks=allowed_networks,
        rate_per_minute=rate_per_minute,
        expiry_date=_expiry_moment(expires_on),
        created_by=actor,
    )
    key = APIClient.objects.assign_key(client)
    client.full_clean()
    with set_actor(actor):
        client.save()
    # The grant's reason is read in the access review: the client's purpose says why it reads the register.
    _scopes_grant(actor=actor, client=client, scopes=scopes, reason=(description or name)[:300])
    return client, key


def api_client_scopes(client: APIClient) -> dict[int, Membership]:
    """Register pk → the client's scope in force there."""
    return {
        membership.register_id: membership
        for membership in Membership.objects.active().filter(user=client.user).select_related("register")
    }


@transaction.atomic
def api_client_scopes_set(*, actor, client: APIClient, scopes: dict[Register, str], reason: str) -> APIClient:
    """Make the client's scopes exactly `scopes`: end the ones dropped or changed, grant the new ones."""
    _require_main_user(actor)
    if client.revoked:
        raise ValidationError(_("The client has been revoked."))
    current = api_client_scopes(client)
    wanted = {register.pk: (register, role) for register, role in scopes.items()}
    for register_pk, membership in current.items():
        if wanted.get(register_pk, (None, None))[1] != membership.role:
            membership_end(actor=actor, membership=membership, reason=reason or str(_("Scope changed")))
    added = {
        register: role
        for register_pk, (register, role) in wanted.items()
        if register_pk not in current or current[register_pk].role != role
    }
    _scopes_grant(actor=actor, client=client, scopes=added, reason=reason)
    return client


@transaction.atomic
def api_client_revoke(*, actor, client: APIClient, reason: str) -> APIClient:
    """Revoke the key for good: the machine user is deactivated and every scope ends at once."""
    _require_main_user(actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for revoking the client.")})
    client = APIClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked:
        return client
    for membership in api_client_scopes(client).values():
        membership_end(actor=actor, membership=membership, reason=reason)
    client.revoked = True
    client.revoked_at = timezone.now()
    client.revoked_by = actor
    client.revoke_reason = reason
    with set_actor(actor):
        client.save()
    client.user.is_active = False
    client.user.save(update_fields=["is_active"])
    return client


def api_client_touch(client: APIClient) -> None:
    """Record the time of use, at most once a minute: a busy client must not write a row per call."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > datetime.timedelta(minutes=1):
        APIClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
