"""Legal holds: an owner's decision that data must not be purged until a date.

A hold row records who placed and released it and when, so it needs no separate change log.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from registers.models import Register

from .models import LegalHold

ERROR_ALREADY_RELEASED = _("This hold has already been released.")
ERROR_END_IN_PAST = _("The end date must be today or later.")


@transaction.atomic
def legal_hold_place(
    *, actor, register: Register, reason: str, ends_on: datetime.date, customer: Customer | None = None
) -> LegalHold:
    """Stop purging of one customer, or of the whole register, until the end date."""
    if ends_on < timezone.localdate():
        raise ValidationError({"ends_on": ERROR_END_IN_PAST})
    hold = LegalHold(
        register=register,
        scope=LegalHold.Scope.CUSTOMER if customer else LegalHold.Scope.REGISTER,
        customer=customer,
        reason=reason.strip(),
        ends_on=ends_on,
        placed_by=actor,
    )
    hold.full_clean()
    hold.save()
    return hold


@transaction.atomic
def legal_hold_release(*, actor, hold: LegalHold, reason: str) -> LegalHold:
    """End a hold before its end date; the next purge run treats the data as any other."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError(ERROR_ALREADY_RELEASED)
    if not reason.strip():
        raise ValidationError({"release_reason": _("Give a reason for releasing the hold.")})
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.release_reason = reason.strip()
    hold.save(update_fields=["released_at", "released_by", "release_reason", "updated_at"])
    return hold


def legal_hold_get(*, register: Register, code) -> LegalHold:
    """Return a hold of the register, or raise 404 (also for another register's hold)."""
    try:
        return LegalHold.objects.get(register=register, code=code)
    except LegalHold.DoesNotExist:
        raise Http404 from None


def legal_hold_list(*, register: Register):
    """Return the holds of a register, those in force first."""
    return (
        LegalHold.objects.filter(register=register)
        .select_related("customer", "placed_by", "released_by")
        .order_by("released_at", "-ends_on", "-id")
    )
