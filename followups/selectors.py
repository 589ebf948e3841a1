"""Permission-aware reads of follow-ups: a customer's, a user's own, and one by its code."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from crm.models import Customer, Interaction
from crm.selectors import ERROR_READ_ONLY
from registers import roles
from registers.models import Membership, Register
from registers.selectors import register_ids, user_can

from .models import FollowUp


def followups_for_customer(
    *, user, customer: Customer, done_since: datetime.datetime | None = None
) -> QuerySet[FollowUp]:
    """Return the customer's open follow-ups, and those done since `done_since`, if the user may see its register.

    Open ones first by due date, then the done ones, latest first.
    """
    if not user_can(user=user, register=customer.register, perm=roles.VIEW_DATA):
        return FollowUp.objects.none()
    shown = Q(done_at__isnull=True)
    if done_since is not None:
        shown |= Q(done_at__gte=done_since)
    return (
        FollowUp.objects.filter(shown, customer=customer)
        .select_related("assignee", "contact_person")
        .order_by(F("done_at").desc(nulls_first=True), "due_on", "id")
    )


def my_followups(*, user, limit: int | None = None) -> QuerySet[FollowUp]:
    """Return the open follow-ups assigned to the user in registers they may still see, overdue first, by due date.

    A follow-up of a register whose role has ended stays assigned but drops out here: the user may no longer
    read the customer.
    """
    visible = register_ids(user=user)
    if not visible:
        return FollowUp.objects.none()
    # Overdue ones are those due earliest, so the due date alone puts them first.
    queryset = (
        FollowUp.objects.open()
        .filter(assignee=user, customer__register_id__in=sorted(visible))
        .select_related("customer__register", "contact_person")
        .order_by("due_on", "id")
    )
    return queryset[:limit] if limit is not None else queryset


def changeable_register_ids(*, user) -> set[int]:
    """Return the pks of the registers where the user may mark follow-ups done or change them (no query)."""
    return register_ids(user=user, perms=(roles.CHANGE_DATA,))


def followup_get_for_user(*, user, register: Register, code) -> FollowUp:
    """Return the follow-up of a customer in the register, or raise 404 (also for another register's)."""
    if not user_can(user=user, register=register, perm=roles.VIEW_DATA) or register.kind != Register.Kind.CUSTOMER:
        raise Http404
    try:
        return FollowUp.objects.select_related("customer__register", "contact_person", "assignee").get(
            customer__register=register, code=code
        )
    except (FollowUp.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def followup_get_for_user_rw(*, user, register: Register, code) -> FollowUp:
    """Return the follow-up for a change: 404 as for reading, 403 for a read-only role."""
    followup = followup_get_for_user(user=user, register=register, code=code)
    if not user_can(user=user, register=register, perm=roles.CHANGE_DATA):
        raise PermissionDenied(ERROR_READ_ONLY)
    return followup


def assignee_choices(*, register: Register) -> QuerySet:
    """Return the active users holding an active role in the register: who may be given a follow-up."""
    members = Membership.objects.active().filter(register=register).values("user_id")
    return (
        get_user_model().objects.filter(is_active=True, pk__in=members).order_by("last_name", "first_name", "username")
    )


def due_digest_list(*, user, today: datetime.date) -> list[FollowUp]:
    """Return the user's open follow-ups due today or earlier in registers they may still see, for the digest."""
    return list(my_followups(user=user).filter(due_on__lte=today))


def _count_of(queryset) -> Coalesce:
    # COUNT as a plain function: an aggregate would make Django add a GROUP BY, and the subquery must return
    # one row (0 included) per register.
    counted = queryset.order_by().annotate(count=Func(F("pk"), function="COUNT")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def month_figures(*, user, minimum: int) -> list[dict]:
    """Return, per customer register the user may see, this month's new customers and interactions.

    Figures only, and a figure from 1 to `minimum` - 1 is hidden (None), the rule of the register statistics:
    a small count can single a person out. One query whatever the number of registers.
    """
    visible = sorted(register_ids(user=user))
    if not visible:
        return []
    now = timezone.localtime()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    new_customers = Customer.objects.filter(register=OuterRef("pk"), created_at__gte=start)
    interactions = Interaction.objects.filter(
        customer__register=OuterRef("pk"), occurred_at__gte=start, occurred_at__lte=now
    )
    registers = (
        Register.objects.filter(pk__in=visible, kind=Register.Kind.CUSTOMER)
        .annotate(new_customers=_count_of(new_customers), new_interactions=_count_of(interactions))
        .order_by("name_fi", "pk")
    )

    def shown(value: int) -> int | None:
        return None if 0 < value < minimum else value

    return [
        {
            "register": register,
            "customers": shown(register.new_customers),
            "interactions": shown(register.new_interactions),
        }
        for register in registers
    ]
