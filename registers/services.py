"""State changes of registers and of who may use them."""

import datetime

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import roles
from .audit_context import set_actor
from .models import Membership, Register, RegisterGroupObjectPermission, RoleGroup, UserProfile

ERROR_CANNOT_GRANT = _("You may not grant this role in this register.")
ERROR_CANNOT_END = _("You may not end access in this register.")
ERROR_ALREADY_ENDED = _("This access has already ended.")
ERROR_LAST_OWNER = _(
    "A register must always have an owner: grant the owner role to someone else before ending this one, "
    "or ask a main user."
)


def is_integration_client(user) -> bool:
    """Tell whether the user is an integration API client's machine user (registers.roles.MACHINE_ROLES)."""
    return user.groups.filter(name=roles.INTEGRATION_CLIENTS_GROUP).exists()


def is_main_user(user) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    # Several checks of one request ask this of the same user instance (the request's
    # user); the group membership is read once per instance.
    if getattr(user, "_in_main_users_group", None) is None:
        user._in_main_users_group = user.groups.filter(name=roles.MAIN_USERS_GROUP).exists()
    return user._in_main_users_group


@transaction.atomic
def register_role_groups_ensure(*, register: Register) -> dict[str, Group]:
    """Create the role groups of a register with their object permissions (idempotent).

    Set-wise rather than with guardian's `assign_perm` per permission: that asks four questions for each of the 19
    grants, and every new register (each test's too) paid them.
    """
    names = {role: f"register:{register.code}:{role}" for role in roles.ROLE_PERMISSIONS}
    Group.objects.bulk_create([Group(name=name) for name in names.values()], ignore_conflicts=True)
    by_name = {group.name: group for group in Group.objects.filter(name__in=names.values())}
    RoleGroup.objects.bulk_create(
        [RoleGroup(register=register, role=role, group=by_name[name]) for role, name in names.items()],
        ignore_conflicts=True,
    )
    # A role group made earlier keeps its group (get_or_create's rule).
    groups = {
        role_group.role: role_group.group
        for role_group in RoleGroup.objects.filter(register=register).select_related("group")
    }
    permissions = {
        permission.codename: permission
        for permission in Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(Register),
            codename__in={codename for codenames in roles.ROLE_PERMISSIONS.values() for codename in codenames},
        )
    }
    RegisterGroupObjectPermission.objects.bulk_create(
        [
            RegisterGroupObjectPermission(group=groups[role], permission=permissions[codename], content_object=register)
            for role, codenames in roles.ROLE_PERMISSIONS.items()
            for codename in codenames
        ],
        ignore_conflicts=True,
    )
    return {role: groups[role] for role in roles.ROLE_PERMISSIONS}


def _grantable_roles(*, actor, register: Register) -> frozenset[str]:
    if is_main_user(actor):
        return frozenset(roles.ROLE_PERMISSIONS) - roles.MACHINE_ROLES
    held = Membership.objects.active().filter(user=actor, register=register).values_list("role", flat=True)
    grantable: set[str] = set()
    for role in held:
        grantable |= roles.GRANTABLE_ROLES.get(role, frozenset())
    return frozenset(grantable)


def _endable_roles(*, actor, register: Register) -> frozenset[str]:
    """What the actor may end: what they may grant, and an integration client's scope for a main user or owner.

    An owner answers for who and what reads the register (seed 000): the yearly access review lets them end a
    client's scope in their register, though only a main user creates clients.
    """
    endable = _grantable_roles(actor=actor, register=register)
    owner = Membership.objects.active().filter(user=actor, register=register, role=roles.Role.OWNER).exists()
    if is_main_user(actor) or owner:
        endable |= roles.MACHINE_ROLES
    return endable


def _group_for(*, register: Register, role: str) -> Group:
    try:
        return RoleGroup.objects.select_related("group").get(register=register, role=role).group
    except RoleGroup.DoesNotExist:
        return register_role_groups_ensure(register=register)[role]


def _sync_group_membership(*, membership: Membership, today: datetime.date) -> None:
    """Put the user in the role group exactly while the membership is in force."""
    group = _group_for(register=membership.register, role=membership.role)
    in_force = (
        membership.ended_at is None
        and membership.starts_on <= today
        and (membership.ends_on is None or membership.ends_on >= today)
        and membership.user.is_active
    )
    still_holds = (
        Membership.objects.active(on=today)
        .filter(user=membership.user, register=membership.register, role=membership.role)
        .exclude(pk=membership.pk)
        .exists()
    )
    if in_force or still_holds:
        membership.user.groups.add(group)
    else:
        membership.user.groups.remove(group)


@transaction.atomic
def membership_grant(
    *,
    actor,
    user,
    register: Register,
    role: str,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    reason: str = "",
) -> Membership:
    """Grant a role in a register; permissions follow at once if it starts today."""
    if role not in _grantable_roles(actor=actor, register=register):
        raise PermissionDenied(ERROR_CANNOT_GRANT)
    if is_integration_client(user):
        raise ValidationError(_("An integration client holds only integration scopes."))
    membership = Membership(
        user=user,
        register=register,
        role=role,
        granted_by=actor,
        grant_reason=reason,
        starts_on=starts_on or timezone.localdate(),
        ends_on=ends_on,
    )
    membership.full_clean()
    with set_actor(actor):
        membership.save()
    _sync_group_membership(membership=membership, today=timezone.localdate())
    return membership


@transaction.atomic
def integration_scope_grant(
    *, actor, user, register: Register, role: str, ends_on: datetime.date | None, reason: str
) -> Membership:
    """Give an integration client's machine user a scope (a machine role) in a register: main users only.

    The one way a machine role is granted (membership_grant refuses them), so a person never holds one.
    """
    if not is_main_user(actor):
        raise PermissionDenied(ERROR_CANNOT_GRANT)
    if role not in roles.MACHINE_ROLES or not is_integration_client(user):
        raise ValidationError(_("An integration scope is given only to an integration client."))
    membership = Membership(
        user=user, register=register, role=role, granted_by=actor, grant_reason=reason, ends_on=ends_on
    )
    membership.full_clean()
    with set_actor(actor):
        membership.save()
    _sync_group_membership(membership=membership, today=timezone.localdate())
    return membership


@transaction.atomic
def membership_end(*, actor, membership: Membership, reason: str) -> Membership:
    """End a role at once: the guardian permissions go in the same transaction."""
    # Ends in one register wait for each other, so two owners ending each
    # other's roles cannot both pass the last-owner check.
    Register.objects.select_for_update().filter(pk=membership.register_id).first()
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.ended_at is not None:
        raise ValidationError(ERROR_ALREADY_ENDED)
    if membership.role not in _endable_roles(actor=actor, register=membership.register):
        raise PermissionDenied(ERROR_CANNOT_END)
    if not reason.strip():
        raise ValidationError({"end_reason": _("Give a reason for ending the access.")})
    # The owner answers for the register (seed 000). A main user may still end
    # the last owner role, as deactivating a departed person's account must.
    if membership.role == roles.Role.OWNER and not is_main_user(actor) and not _other_owners(membership).exists():
        raise ValidationError(ERROR_LAST_OWNER)
    membership.ended_at = timezone.now()
    membership.ended_by = actor
    membership.end_reason = reason
    with set_actor(actor):
        membership.save()
    _sync_group_membership(membership=membership, today=timezone.localdate())
    return membership


def _other_owners(membership: Membership):
    return (
        Membership.objects.active()
        .filter(register=membership.register, role=roles.Role.OWNER, user__is_active=True)
        .exclude(user=membership.user)
    )


@transaction.atomic
def memberships_sync(*, today: datetime.date | None = None) -> dict[str, int]:
    """Start memberships whose start date has come and end those past their end date."""
    today = today or timezone.localdate()
    ended = 0
    for membership in Membership.objects.expired(on=today).select_related("user", "register"):
        membership.ended_at = timezone.now()
        membership.end_reason = str(_("End date reached"))
        membership.save(update_fields=["ended_at", "end_reason", "updated_at"])
        _sync_group_membership(membership=membership, today=today)
        ended += 1
    started = 0
    for membership in Membership.objects.active(on=today).filter(starts_on=today).select_related("user", "register"):
        _sync_group_membership(membership=membership, today=today)
        started += 1
    return {"ended": ended, "started": started}


def main_users_group_ensure() -> Group:
    """Create the main-user group that may manage accounts (idempotent)."""
    group, _created = Group.objects.get_or_create(name=roles.MAIN_USERS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["auth", "registers"],
            codename__in=[
                "add_user",
                "change_user",
                "view_user",
                "view_group",
                "view_membership",
                "view_register",
                "view_organisation",
                "view_accessreview",
                "view_accessreviewitem",
                "view_confidentialitycommitment",
                "add_confidentialitycommitment",
                "view_commitmentacceptance",
            ],
        )
    )
    return group


@transaction.atomic
def user_language_set(*, actor, language: str) -> UserProfile:
    """Remember the language the user chose, for every later session and browser."""
    profile, _created = UserProfile.objects.get_or_create(user=actor)
    profile.language = language
    profile.full_clean()
    profile.save()
    return profile
