"""Objection (GDPR 21), restriction (GDPR 18) and portability (GDPR 20) applied to a request's confirmed records.

- Objection to direct marketing is absolute and immediate (art. 21(3)): the handler applies it as soon as the
  records are confirmed, with no approval step, to the confirmed records and to every record with the person's
  proven e-mail addresses in every customer register of the controller (`Register.organisation`), not only the
  registers the request names (the one-click link's mechanism, `marketing.marketing_objection_by_address`); the
  person drops out of every marketing and mailing-label export from then on. A person found nowhere gets an answer
  and nothing is created. An objection to other processing (art. 21(1)) is weighed (`objection_weighing`).
- Restriction keeps the data stored and visible, marked restricted, and blocks edits, exports and mailings
  (`crm.services` refuses changes; exports leave the rows out). Recipients of disclosed data are notified (art. 19).
  It is lifted only after the person has been told (art. 18(3), `restriction_lift`).
- Portability gives, as JSON, the data the person provided, from the registers whose legal basis is consent or a
  contract; registers kept for a public task are refused with the reason (art. 20(1), recital 68).

The shared checks of every rights step (`require`, `matched_customers`) live here too.
"""

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm import services as crm_services
from crm.models import ContactPerson, Customer
from privacy.requests.models import DataSubjectRequest, RequestEvent, ResponsePackage
from privacy.requests.services import ERROR_WRONG_STATE
from privacy.requests.workflow import request_event_add

from .disclosures import notification_tasks_create
from .guards import portability_ineligible_registers
from .marketing import marketing_objection_by_address
from .models import ConsentRecord, ObjectionRecord

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind

# Art. 20(1): data "provided by" the person: what they gave us, not what staff wrote about them or derived.
PORTABLE_CUSTOMER_FIELDS = Customer.DATA_FIELDS
PORTABLE_CONTACT_PERSON_FIELDS = ContactPerson.DATA_FIELDS


ERROR_WRONG_KIND = _("This step does not belong to a request of type “%(kind)s”.")


def require(request: DataSubjectRequest, *, kinds=(), states=()) -> None:
    """Raise ValidationError unless the request is of one of `kinds` and in one of `states`."""
    if kinds and request.kind not in kinds:
        raise ValidationError(
            ERROR_WRONG_KIND, code="wrong_kind", params={"kind": DataSubjectRequest.Kind(request.kind).label}
        )
    if states and request.state not in states:
        raise ValidationError(
            ERROR_WRONG_STATE, code="wrong_state", params={"state": DataSubjectRequest.State(request.state).label}
        )


def matched_customers(request: DataSubjectRequest, *, include_organisations: bool = False) -> list[Customer]:
    """Return the customers confirmed as the person's; with `include_organisations`, also the organisations of
    confirmed contact persons (their data travels in the organisation's record, e.g. in a disclosure)."""
    ids = set(request.matches.exclude(customer=None).values_list("customer_id", flat=True))
    if include_organisations:
        ids |= set(request.matches.exclude(contact_person=None).values_list("contact_person__customer_id", flat=True))
    return list(Customer.objects.filter(pk__in=ids).select_related("register").order_by("register_id", "pk"))


def _channel(request: DataSubjectRequest) -> str:
    return request.channel if request.channel in ConsentRecord.Channel.values else ConsentRecord.Channel.REQUEST


def _proven_addresses(request: DataSubjectRequest) -> list[str]:
    """Return the person's e-mail addresses that the request vouches for: those of the records the handler confirmed
    as the person's (a person customer, a contact person) and the requester's own, when they proved it (confirmed
    link, e-mail channel, strong identification) and act for themself."""
    addresses = set()
    proven = request.email_confirmed_at is not None or request.channel in {
        DataSubjectRequest.Channel.EMAIL,
        DataSubjectRequest.Channel.MY_DATA,
    }
    if request.requester_email and proven and not request.acting_for:
        addresses.add(request.requester_email.casefold())
    for match in request.matches.select_related("customer", "contact_person"):
        if match.customer_id and match.customer.kind == Customer.Kind.PERSON and match.customer.email:
            addresses.add(match.customer.email.casefold())
        if match.contact_person_id and match.contact_person.email:
            addresses.add(match.contact_person.email.casefold())
    return sorted(addresses)


@transaction.atomic
def objection_apply(*, request: DataSubjectRequest, actor) -> list[ObjectionRecord]:
    """Stop direct marketing to the person at once, in every customer register of the controller (art. 21(3))."""
    require(request, kinds=(Kind.OBJECTION,), states=(State.IN_PROGRESS,))
    now = timezone.now()
    records = []
    common = {
        "purpose": ObjectionRecord.Purpose.DIRECT_MARKETING,
        "given_at": now,
        "channel": _channel(request),
        "request": request,
        "recorded_by": actor,
    }
    for customer in matched_customers(request):
        crm_services.customer_marketing_objection_set(actor=actor, customer=customer)
        records.append(ObjectionRecord.objects.create(customer=customer, register=customer.register, **common))
    # A contact person found for the request objects for themself; their organisation's choice is its own.
    for match in request.matches.exclude(contact_person=None).select_related("contact_person__customer__register"):
        person = crm_services.contact_person_marketing_objection_set(actor=actor, contact_person=match.contact_person)
        records.append(
            ObjectionRecord.objects.create(
                customer=person.customer, contact_person=person, register=person.customer.register, **common
            )
        )
    # The objection is the controller's to honour everywhere: the same person in its other registers, found by
    # address as the one-click link finds them. Records marked above are objecting already and are not found again.
    for address in _proven_addresses(request):
        records += marketing_objection_by_address(
            organisation=request.organisation,
            email=address,
            evidence={"request": request.reference},
            channel=common["channel"],
            request=request,
            actor=actor,
        )
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.OBJECTION_APPLIED,
        payload={"records": len(records), "registers": sorted({r.register.slug for r in records})},
    )
    return records


@transaction.atomic
def restriction_apply(*, request: DataSubjectRequest, actor) -> list[Customer]:
    """Restrict processing of the person's customer records to storage, and pass it on to recipients (art. 19)."""
    require(request, kinds=(Kind.RESTRICTION,), states=(State.IN_PROGRESS,))
    customers = [
        crm_services.customer_restriction_set(actor=actor, customer=customer, restricted=True)
        for customer in matched_customers(request)
    ]
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.RESTRICTION_APPLIED,
        payload={"records": len(customers), "registers": sorted({c.register.slug for c in customers})},
    )
    notification_tasks_create(request=request, actor=actor, customers=customers)
    return customers


def _portable(instance, names) -> dict:
    data = {}
    for name in names:
        value = getattr(instance, name)
        if value in (None, ""):
            continue
        data[name] = value.as_e164 if hasattr(value, "as_e164") else str(value)
    return data


def portable_content(request: DataSubjectRequest) -> dict:
    """Return the data the person provided, per register whose legal basis is consent or a contract."""
    ineligible = {r.pk for r in portability_ineligible_registers(request)}
    registers = []
    matches = request.matches.select_related("register", "customer", "contact_person__customer")
    for part in request.register_parts.select_related("register").order_by("register__slug"):
        register = part.register
        if register.pk in ineligible:
            continue
        records = []
        for match in (m for m in matches if m.register_id == register.pk):
            if match.customer_id:
                records.append({"type": "customer", "data": _portable(match.customer, PORTABLE_CUSTOMER_FIELDS)})
            elif match.contact_person_id:
                records.append(
                    {
                        "type": "contact_person",
                        "organisation": match.contact_person.customer.organisation_name,
                        "data": _portable(match.contact_person, PORTABLE_CONTACT_PERSON_FIELDS),
                    }
                )
        registers.append({"register": register.slug, "name": register.name_en, "records": records})
    return {
        "format": "rekisteri-portable-data/1",
        "reference": request.reference,
        "controller": request.organisation.name,
        "generated_on": timezone.localdate().isoformat(),
        "registers": registers,
    }


@transaction.atomic
def portability_build(*, request: DataSubjectRequest, actor) -> ResponsePackage:
    """Build the portable data (JSON) and its cover letter (HTML) as the request's answer package."""
    require(request, kinds=(Kind.PORTABILITY,), states=(State.IN_PROGRESS,))
    content = portable_content(request)
    document = json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True).encode()
    with translation.override(request.language):
        html = render_to_string(
            "privacy/rights/portability_package.html",
            {"content": content, "request": request, "ineligible": portability_ineligible_registers(request)},
        ).encode()
    count = sum(len(r["records"]) for r in content["registers"])
    package = ResponsePackage(request=request, generated_at=timezone.now(), generated_by=actor, record_count=count)
    package.files_set(stem="portable", html=html, document=document)
    package.save()
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.PACKAGE_BUILT,
        payload={"package": str(package.code), "sha256": package.sha256, "records": count},
    )
    return package
