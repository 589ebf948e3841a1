"""Permission-aware reads of registers: the one answer to "which registers may
this user see, edit or administer". Every query of personal data starts here."""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from . import roles
from .models import ConfidentialityCommitment, Membership, Register
from .services import is_main_user


def register_list(*, user, perm: str = roles.VIEW_DATA) -> QuerySet[Register]:
    """Return the registers on which the user holds `perm` through an active role."""
    if not user.is_authenticated or not user.is_active:
        return Register.objects.none()
    # The role must not have expired: a role past its end date keeps its group
    # until the hourly sync runs, and must not give access meanwhile. (A role
    # that has not started yet gets its group only from the sync.)
    roles_with_perm = [role for role, perms in roles.ROLE_PERMISSIONS.items() if perm in perms]
    in_force = Membership.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=timezone.localdate()),
        user=user,
        register=OuterRef("pk"),
        role__in=roles_with_perm,
        ended_at__isnull=True,
    )
    return get_objects_for_user(
        user,
        f"registers.{perm}",
        klass=Register.objects.select_related("organisation"),
        accept_global_perms=False,
        with_superuser=False,
    ).filter(Exists(in_force))


def register_get_for_user(*, user, slug: str, perm: str = roles.VIEW_DATA) -> Register:
    """Return the register or raise 404, also when it exists but the user lacks `perm`."""
    try:
        return register_list(user=user, perm=perm).get(slug=slug)
    except Register.DoesNotExist:
        raise Http404 from None


def user_can(*, user, register: Register, perm: str) -> bool:
    """Tell whether the user holds `perm` on the register."""
    return register_list(user=user, perm=perm).filter(pk=register.pk).exists()


def user_roles(*, user, register: Register) -> set[str]:
    """Return the roles the user holds in the register today."""
    return set(Membership.objects.active().filter(user=user, register=register).values_list("role", flat=True))


def register_get_for_owner(*, user, slug: str) -> Register:
    """Return a register the user owns (or any register for a main user).

    Raise 404 when the user cannot see the register at all, 403 when they can see it without owning it.
    """
    if user.is_authenticated and is_main_user(user):
        try:
            return Register.objects.select_related("organisation").get(slug=slug)
        except Register.DoesNotExist:
            raise Http404 from None
    register = register_get_for_user(user=user, slug=slug)
    if not user_can(user=user, register=register, perm=roles.REVIEW_ACCESS):
        raise PermissionDenied
    return register


def register_list_for_owner(*, user) -> QuerySet[Register]:
    """Return the registers the user owns, or every register for a main user."""
    if user.is_authenticated and is_main_user(user):
        return Register.objects.select_related("organisation")
    return register_list(user=user, perm=roles.REVIEW_ACCESS)


def commitment_pending_list(*, user) -> QuerySet[ConfidentialityCommitment]:
    """Return the current commitments the user must still accept.

    A user accepts the commitment of every organisation in whose registers
    they hold an active role; a main user, who administers them all, accepts
    every organisation's commitment.
    """
    current = ConfidentialityCommitment.objects.current()
    if not is_main_user(user):
        organisations = Register.objects.filter(memberships__in=Membership.objects.active().filter(user=user)).values(
            "organisation_id"
        )
        current = current.filter(organisation_id__in=organisations)
    return current.exclude(acceptances__user=user).select_related("organisation").order_by("organisation__name")


def register_get_for_manager(*, user, slug: str) -> Register:
    """Return a register in which the user may grant and end access (any register for a main user).

    Raise 404 when the user cannot see the register at all, 403 when they can see it without managing access.
    """
    if user.is_authenticated and is_main_user(user):
        try:
            return Register.objects.select_related("organisation").get(slug=slug)
        except Register.DoesNotExist:
            raise Http404 from None
    register = register_get_for_user(user=user, slug=slug)
    if not user_can(user=user, register=register, perm=roles.MANAGE_ACCESS):
        raise PermissionDenied
    return register


def membership_list(*, register: Register) -> QuerySet[Membership]:
    """Return the register's roles, in force and future first, then those ended."""
    return (
        Membership.objects.filter(register=register)
        .select_related("user", "granted_by", "ended_by")
        .order_by(models.F("ended_at").desc(nulls_first=True), "user__last_name", "user__username", "role")
    )
