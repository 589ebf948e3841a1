"""Consents and their withdrawal: "as easy as giving" (GDPR 7(3)), from a link without signing in, with history.

Each consent is a `ConsentRecord` from the moment it is given until it is withdrawn; giving it again starts a new
row, so the history shows every period a use was allowed. The withdrawal link carries a signature of the record's
public code only (django.core.signing with a salt of its own), so it opens nothing else. Withdrawing a consent to a
marketing use also stops that use at once: the customer is marked as objecting to direct marketing, which every
marketing and mailing-label export honours.
"""

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

from .models import ConsentRecord
from .services import matched_customers, require

WITHDRAW_SALT = "privacy.consent.withdraw"
ERROR_CONSENT_IN_FORCE = _("This consent is already in force.")

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


@transaction.atomic
def consent_give(*, actor, customer: Customer, purpose: str, channel: str, notice_version: str = "") -> ConsentRecord:
    """Record that the customer gave a consent, through which channel and after which privacy notice."""
    if ConsentRecord.objects.filter(customer=customer, purpose=purpose, withdrawn_at__isnull=True).exists():
        raise ValidationError({"purpose": ERROR_CONSENT_IN_FORCE})
    consent = ConsentRecord(
        customer=customer,
        register=customer.register,
        purpose=purpose,
        given_at=timezone.now(),
        given_channel=channel,
        notice_version=notice_version.strip(),
        recorded_by=actor,
    )
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def consent_withdraw(
    *, consent: ConsentRecord, actor=None, channel: str = Channel.LINK, request: DataSubjectRequest | None = None
) -> ConsentRecord:
    """Withdraw a consent (again: nothing changes the second time) and stop the use it allowed."""
    consent = ConsentRecord.objects.select_for_update().select_related("customer").get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_channel = channel
    consent.withdrawn_by = actor
    consent.withdrawn_request = request
    consent.save(update_fields=["withdrawn_at", "withdrawn_channel", "withdrawn_by", "withdrawn_request", "updated_at"])
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
