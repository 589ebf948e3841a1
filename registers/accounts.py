"""User accounts and confidentiality commitments: creating, deactivating, committing.

The seeds require that a main user creates personal accounts, that access ends
the day a person stops doing the tasks (the account is deactivated then), and
that every user has signed a confidentiality commitment before getting access.
"""

from importlib import import_module

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from . import emails, roles
from .audit_context import set_actor
from .models import (
    CommitmentAcceptance,
    ConfidentialityCommitment,
    Membership,
    Organisation,
)
from .services import is_main_user, membership_end

ERROR_CANNOT_CREATE_USERS = _("You may not create user accounts.")
ERROR_CANNOT_DEACTIVATE = _("Only a main user may deactivate accounts.")
ERROR_DEACTIVATE_SELF = _("You cannot deactivate your own account.")
ERROR_ALREADY_INACTIVE = _("This account is already deactivated.")
ERROR_REASON_REQUIRED = _("Give a reason.")
ERROR_USERNAME_TAKEN = _("This username is already in use.")
ERROR_CANNOT_PUBLISH = _("Only a main user may publish confidentiality commitments.")
ERROR_NOT_CURRENT = _("This is not the current version of the commitment.")


def user_may_manage_accounts(user) -> bool:
    """Tell whether the user may create accounts: main users and holders of access management anywhere."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_main_user(user):
        return True
    managing_roles = [role for role, perms in roles.ROLE_PERMISSIONS.items() if roles.MANAGE_ACCESS in perms]
    return Membership.objects.active().filter(user=user, role__in=managing_roles).exists()


def _log_user_event(*, actor, user, action: int, changes: dict, data: dict) -> LogEntry:
    # One explicit entry per account event, carrying the reason that an
    # automatic field diff could not hold.
    return LogEntry.objects.log_create(
        user,
        force_log=True,
        action=action,
        changes=changes,
        actor=actor,
        actor_email=getattr(actor, "email", None),
        additional_data=data,
    )


def password_set_url(user) -> str:
    """Return the absolute one-time link with which a new user chooses a password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def user_create(*, actor, username: str, first_name: str, last_name: str, email: str, reason: str):
    """Create a personal account without a password and e-mail the new user a link to choose one."""
    if not user_may_manage_accounts(actor):
        raise PermissionDenied(ERROR_CANNOT_CREATE_USERS)
    if not reason.strip():
        raise ValidationError({"reason": ERROR_REASON_REQUIRED})
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ERROR_USERNAME_TAKEN})
    user = user_model(username=username, first_name=first_name, last_name=last_name, email=email)
    # Nobody, the creator included, ever knows the password.
    user.set_unusable_password()
    user.full_clean()
    with disable_auditlog():
        user.save()
    _log_user_event(
        actor=actor,
        user=user,
        action=LogEntry.Action.CREATE,
        changes={"username": ["None", username], "email": ["None", email], "is_active": ["None", "True"]},
        data={"reason": reason},
    )
    link = password_set_url(user)
    transaction.on_commit(lambda: emails.send_account_created(user=user, link=link, created_by=actor))
    return user


def _sessions_end(user) -> int:
    """Delete every server-side session of the user; return how many there were."""
    # Session keys change at login and password change, so a mapping kept at
    # login goes stale; decoding the live sessions is the reliable way. The
    # store class also clears the cache copy of cached_db sessions.
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
            store_class(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def user_deactivate(*, actor, user, reason: str) -> dict[str, int]:
    """End all the user's roles, deactivate the account and end its sessions, all at once."""
    if not is_main_user(actor):
        raise PermissionDenied(ERROR_CANNOT_DEACTIVATE)
    if actor.pk == user.pk:
        raise ValidationError(ERROR_DEACTIVATE_SELF)
    if not reason.strip():
        raise ValidationError({"reason": ERROR_REASON_REQUIRED})
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise ValidationError(ERROR_ALREADY_INACTIVE)
    memberships = Membership.objects.filter(user=user, ended_at__isnull=True).select_related("register")
    ended = 0
    for membership in memberships:
        membership_end(actor=actor, membership=membership, reason=reason)
        ended += 1
    user.is_active = False
    with disable_auditlog():
        user.save(update_fields=["is_active"])
    sessions = _sessions_end(user)
    _log_user_event(
        actor=actor,
        user=user,
        action=LogEntry.Action.UPDATE,
        changes={"is_active": ["True", "False"]},
        data={"reason": reason, "memberships_ended": ended, "sessions_ended": sessions},
    )
    return {"memberships": ended, "sessions": sessions}


@transaction.atomic
def commitment_publish(
    *, actor, organisation: Organisation, text_fi: str, text_sv: str, text_en: str
) -> ConfidentialityCommitment:
    """Publish the next version of the organisation's commitment; every user must accept it again."""
    if not is_main_user(actor):
        raise PermissionDenied(ERROR_CANNOT_PUBLISH)
    # Lock the organisation row so two publishers cannot take the same number.
    Organisation.objects.select_for_update().get(pk=organisation.pk)
    latest = organisation.commitments.aggregate(latest=models.Max("version"))["latest"] or 0
    commitment = ConfidentialityCommitment(
        organisation=organisation,
        version=latest + 1,
        text_fi=text_fi,
        text_sv=text_sv,
        text_en=text_en,
        published_by=actor,
    )
    commitment.full_clean()
    with set_actor(actor):
        commitment.save()
    return commitment


@transaction.atomic
def commitment_accept(*, user, commitment: ConfidentialityCommitment, remote_addr: str | None) -> CommitmentAcceptance:
    """Record that the user accepted the current version of a commitment (idempotent)."""
    current = ConfidentialityCommitment.objects.current().filter(organisation=commitment.organisation_id).first()
    if current is None or current.pk != commitment.pk:
        raise ValidationError(ERROR_NOT_CURRENT)
    # The acceptance row itself (user, version, time, address) is the evidence.
    acceptance, _created = CommitmentAcceptance.objects.get_or_create(
        user=user, commitment=commitment, defaults={"remote_addr": remote_addr}
    )
    return acceptance
