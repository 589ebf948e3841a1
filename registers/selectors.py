"""Permission-aware reads of registers: the one answer to "which registers may
this user see, edit or administer". Every query of personal data starts here."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from . import roles
from .models import Membership, Register
from .services import is_main_user


def register_list(*, user, perm: str = roles.VIEW_DATA) -> QuerySet[Register]:
    """Return the registers on which the user holds `perm` through an active role."""
    if not user.is_authenticated or not user.is_active:
        return Register.objects.none()
    return get_objects_for_user(
        user,
        f"registers.{perm}",
        klass=Register.objects.select_related("organisation"),
        accept_global_perms=False,
        with_superuser=False,
    )


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
