"""Permission-aware reads of registers: the one answer to "which registers may
this user see, edit or administer". Every query of personal data starts here."""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404

from . import roles
from .access import user_access
from .models import ConfidentialityCommitment, Membership, Register
from .services import is_main_user


def register_ids(*, user, perms=(roles.VIEW_DATA,)) -> set[int]:
    """Return the pks of the registers on which the user holds any of `perms` through an active role.

    No query of its own: the request's `access.user_access` answers it.
    """
    if not user.is_authenticated or not user.is_active:
        return set()
    access = user_access(user)
    return set().union(*(access.register_pks(perm) for perm in perms))


def register_list(*, user, perm: str = roles.VIEW_DATA) -> QuerySet[Register]:
    """Return the registers on which the user holds `perm` through an active role (see `access.UserAccess`)."""
    pks = register_ids(user=user, perms=(perm,))
    if not pks:
        return Register.objects.none()
    return Register.objects.select_related("organisation").filter(pk__in=sorted(pks))


def register_get_for_user(*, user, slug: str, perm: str = roles.VIEW_DATA) -> Register:
    """Return the register or raise 404, also when it exists but the user lacks `perm`."""
    try:
        return register_list(user=user, perm=perm).get(slug=slug)
    except Register.DoesNotExist:
        raise Http404 from None


def user_can(*, user, register: Register, perm: str) -> bool:
    """Tell whether the user holds `perm` on the register."""
    return register.pk in register_ids(user=user, perms=(perm,))


def user_roles(*, user, register: Register) -> set[str]:
    """Return the roles the user holds in the register today."""
    return user_access(user).roles_in(register.pk)


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
    return (
        _unaccepted_commitments(user=user, of_all_organisations=is_main_user(user))
        .select_related("organisation")
        .order_by("organisation__name_fi")
    )


def _unaccepted_commitments(*, user, of_all_organisations: bool) -> QuerySet[ConfidentialityCommitment]:
    current = ConfidentialityCommitment.objects.current().exclude(acceptances__user=user)
    if of_all_organisations:
        return current
    organisations = Register.objects.filter(memberships__in=Membership.objects.active().filter(user=user))
    return current.filter(organisation_id__in=organisations.values("organisation_id"))


def request_gate_facts(*, user) -> dict[str, bool]:
    """Answer the questions the sign-in gates ask on every request (one query per request, `user_access`).

    Is the user a main user, an owner somewhere (both need a second factor), and is a
    confidentiality commitment still unaccepted.
    """
    access = user_access(user)
    user._in_main_users_group = access.in_main_users_group
    main = is_main_user(user)
    return {
        "main_user": main,
        "owner": access.owner,
        "commitment_pending": access.pending_all if main else access.pending_own,
    }


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
