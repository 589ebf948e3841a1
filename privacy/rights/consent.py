"""Consents and their withdrawal: "as easy as giving" (GDPR 7(3)), from a link without signing in, with history.

Each consent is a `ConsentRecord` from the moment it is given until it is withdrawn; giving it again starts a new
row, so the history shows every period a use was allowed. Each row holds its evidence (GDPR 7(1)): the exact version
of the consent notice shown and its language, the channel, the time and who recorded it (no one when the person
acted themself), and the same for the withdrawal. In a register that has consent notices, no consent is recorded
without the version in force for its purpose; a withdrawal is never refused for want of one.

The withdrawal link carries a signature of the record's public code only (django.core.signing with a salt of its
own), so it opens nothing else. Withdrawing a consent to a
marketing use also stops that use at once: the customer is marked as objecting to direct marketing, which every
marketing and mailing-label export honours.
"""

import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import services as crm_services
from crm.models import Customer
from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.requests.workflow import request_event_add

from .models import ERROR_WITHDRAWN_BEFORE_GIVEN, ConsentNotice, ConsentRecord
from .selectors import notice_in_force, register_uses_notices
from .services import matched_customers, require

WITHDRAW_SALT = "privacy.consent.withdraw"
ERROR_CONSENT_IN_FORCE = _("This consent is already in force.")
ERROR_NO_NOTICE_IN_FORCE = _(
    "This register has no consent text in force for %(purpose)s: its owner must add one before such a consent "
    "can be recorded."
)
ERROR_NOTICE_REQUIRED = _("Record the consent text that was shown to the person.")
ERROR_NOTICE_NOT_IN_FORCE = _(
    "This version of the consent text is no longer in force: show the person the version now in force."
)
ERROR_WITHDRAWN_IN_FUTURE = _("A withdrawal cannot be dated in the future.")

Channel = ConsentRecord.Channel


def withdraw_token_make(consent: ConsentRecord) -> str:
    # No expiry: a withdrawal link in a years-old newsletter must still work.
    return signing.Signer(salt=WITHDRAW_SALT).sign(str(consent.code))


def consent_by_withdraw_token(*, token: str) -> ConsentRecord:
    """Return the consent a withdrawal link was issued for, or 404 for a tampered or foreign link."""
    try:
        code = signing.Signer(salt=WITHDRAW_SALT).unsign(token)
        return ConsentRecord.objects.select_related("register", "customer").get(code=code)
    except (signing.BadSignature, ConsentRecord.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _require_notice_in_force(*, customer: Customer, purpose: str, notice: ConsentNotice | None) -> None:
    in_force = notice_in_force(register=customer.register, kind=ConsentNotice.Kind.CONSENT, purpose=purpose)
    if notice is None:
        if in_force is not None:
            raise ValidationError({"notice": ERROR_NOTICE_REQUIRED}, code="notice_required")
        if register_uses_notices(register=customer.register):
            label = ConsentRecord.Purpose(purpose).label if purpose in ConsentRecord.Purpose.values else purpose
            error = ValidationError(ERROR_NO_NOTICE_IN_FORCE, code="no_notice_in_force", params={"purpose": label})
            raise ValidationError({"purpose": error})
    elif in_force is None or notice.pk != in_force.pk:
        # The text shown is the one the register's owner has in force now: a page left open over a version change,
        # or a notice of another register or purpose, is not evidence of this consent.
        raise ValidationError({"notice": ERROR_NOTICE_NOT_IN_FORCE}, code="notice_not_in_force")


@transaction.atomic
def consent_give(
    *,
    actor,
    customer: Customer,
    purpose: str,
    channel: str,
    notice: ConsentNotice | None = None,
    language: str = "",
    notice_version: str = "",
) -> ConsentRecord:
    """Record that the customer gave a consent: the notice version shown and its language, the channel, the time,
    and who recorded it (`actor`; None when the person gave it themself)."""
    _require_notice_in_force(customer=customer, purpose=purpose, notice=notice)
    if ConsentRecord.objects.filter(customer=customer, purpose=purpose, withdrawn_at__isnull=True).exists():
        raise ValidationError({"purpose": ERROR_CONSENT_IN_FORCE})
    consent = ConsentRecord(
        customer=customer,
        register=customer.register,
        purpose=purpose,
        given_at=timezone.now(),
        given_channel=channel,
        notice=notice,
        notice_language=language if notice else "",
        notice_version="" if notice else notice_version.strip(),
        recorded_by=actor,
    )
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def consent_withdraw(
    *,
    consent: ConsentRecord,
    actor=None,
    channel: str = Channel.LINK,
    request: DataSubjectRequest | None = None,
    notice: ConsentNotice | None = None,
    language: str = "",
    at: datetime.datetime | None = None,
) -> ConsentRecord:
    """Withdraw a consent (again: nothing changes the second time) and stop the use it allowed.

    `notice` is the withdrawal notice the person was shown, if any, and `language` its language; `at` is when the
    withdrawal reached the controller (a letter read days later), now by default.
    """
    consent = (
        ConsentRecord.objects.select_for_update(of=("self",)).select_related("customer", "notice").get(pk=consent.pk)
    )
    if consent.withdrawn_at is not None:
        return consent
    now = timezone.now()
    at = at or now
    if at > now:
        raise ValidationError(ERROR_WITHDRAWN_IN_FUTURE, code="withdrawn_in_future")
    if at < consent.given_at:
        raise ValidationError(ERROR_WITHDRAWN_BEFORE_GIVEN, code="withdrawn_before_given")
    consent.withdrawn_at = at
    consent.withdrawn_channel = channel
    consent.withdrawn_by = actor
    consent.withdrawn_request = request
    consent.withdrawn_notice = notice
    consent.withdrawn_notice_language = language if notice else ""
    consent.full_clean()
    consent.save(
        update_fields=[
            "withdrawn_at",
            "withdrawn_channel",
            "withdrawn_by",
            "withdrawn_request",
            "withdrawn_notice",
            "withdrawn_notice_language",
            "updated_at",
        ]
    )
    if consent.purpose in ConsentRecord.MARKETING_PURPOSES:
        crm_services.customer_marketing_objection_set(actor=actor, customer=consent.customer)
    return consent


@transaction.atomic
def request_consents_withdraw(*, request: DataSubjectRequest, actor) -> list[ConsentRecord]:
    """Withdraw every consent in force of the customers confirmed as the person's (a withdrawal request)."""
    require(
        request, kinds=(DataSubjectRequest.Kind.CONSENT_WITHDRAWAL,), states=(DataSubjectRequest.State.IN_PROGRESS,)
    )
    customers = matched_customers(request)
    consents = ConsentRecord.objects.filter(customer__in=customers, withdrawn_at__isnull=True)
    withdrawn = [
        consent_withdraw(consent=consent, actor=actor, channel=Channel.REQUEST, request=request) for consent in consents
    ]
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.CONSENT_WITHDRAWN,
        payload={"consents": [str(c.code) for c in withdrawn]},
    )
    return withdrawn
