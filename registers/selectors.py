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
    """Answer in one query the questions the sign-in gates ask on every request.

    Is the user a main user, an owner somewhere (both need a second factor), and is a
    confidentiality commitment still unaccepted. The answer is kept on the user
    instance, which lives for one request.
    """
    facts = getattr(user, "_gate_facts", None)
    if facts is None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        row = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .annotate(
                main=Exists(Group.objects.filter(user=OuterRef("pk"), name=roles.MAIN_USERS_GROUP)),
                owner=Exists(Membership.objects.active().filter(user=OuterRef("pk"), role=roles.Role.OWNER)),
                pending_all=Exists(_unaccepted_commitments(user=user, of_all_organisations=True)),
                pending_own=Exists(_unaccepted_commitments(user=user, of_all_organisations=False)),
            )
            .values("main", "owner", "pending_all", "pending_own")
            .get()
        )
        user._in_main_users_group = row["main"]
        main = is_main_user(user)
        facts = {
            "main_user": main,
            "owner": row["owner"],
            "commitment_pending": row["pending_all"] if main else row["pending_own"],
        }
        user._gate_facts = facts
    return facts


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
