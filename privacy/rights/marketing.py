"""The one-click objection to direct marketing: an address says "no more marketing", everywhere at once.

A campaign message's one-click link (campaigns.views.unsubscribe, RFC 8058) names an address, not a record: the
person behind it may be a person customer or a contact person in any of the controller's customer registers.
GDPR 21(3) says marketing stops once they object, so every record of that address in every customer register
of the controller (`Register.organisation`) is marked, each with an `ObjectionRecord` naming the evidence (the
campaign, the message's token, the method and the time). Nobody signs in: the records name no user. Where the
person was shown a register's objection notice (the "my data" pages), that register's records name the version and
the language shown.

Running it again for the same address changes nothing and records nothing more.

A data-subject request's objection (`services.objection_apply`) reaches the person's records in every register of
the controller through the same function, with the request and the handler named on each record.
"""

from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone

from crm import services as crm_services
from crm.models import ContactPerson, Customer
from registers.audit_context import set_actor
from registers.models import Organisation, Register

from .models import ConsentNotice, ConsentRecord, ObjectionRecord


def _registers(organisation: Organisation):
    return Register.objects.filter(organisation=organisation, kind=Register.Kind.CUSTOMER)


@transaction.atomic
def marketing_objection_by_address(
    *,
    organisation: Organisation,
    email: str,
    evidence: dict[str, Any],
    channel: str = ConsentRecord.Channel.UNSUBSCRIBE,
    request=None,
    actor=None,
    notices: dict[int, tuple[ConsentNotice, str]] | None = None,
) -> list[ObjectionRecord]:
    """Mark every person customer and contact person with `email` in the controller's registers as objecting.

    Returns the objection records written now (none when every record was objecting already). `request` and
    `actor` name the data-subject request and the handler when the objection came through a request; `notices`
    maps a register's pk to the objection notice shown for it and the language it was shown in.
    """
    notices = notices or {}
    address = (email or "").strip().upper()
    if not address:
        return []
    now = timezone.now()
    registers = _registers(organisation)
    customers = list(
        Customer.objects.annotate(email_upper=Upper("email"))
        .filter(
            register__in=registers,
            kind=Customer.Kind.PERSON,
            email_upper=address,
            marketing_objection=False,
        )
        .select_related("register")
        .order_by("pk")
    )
    persons = list(
        ContactPerson.objects.annotate(email_upper=Upper("email"))
        .filter(customer__register__in=registers, email_upper=address, marketing_objection=False)
        .select_related("customer__register")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    records = []
    for customer in customers:
        crm_services.customer_marketing_objection_set(actor=actor, customer=customer)
        records.append(
            ObjectionRecord(
                customer=customer,
                register=customer.register,
                purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
                given_at=now,
                channel=channel,
                evidence=evidence,
                request=request,
                recorded_by=actor,
                **_shown(notices, customer.register_id),
            )
        )
    for person in persons:
        person.marketing_objection = True
        person.marketing_objection_at = now
        person.version = F("version") + 1
        with set_actor(actor):
            # save() with the fields named: auditlog records the change of the flag and its time.
            person.save(update_fields=["marketing_objection", "marketing_objection_at", "version", "updated_at"])
        records.append(
            ObjectionRecord(
                customer=person.customer,
                contact_person=person,
                register=person.customer.register,
                purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
                given_at=now,
                channel=channel,
                evidence=evidence,
                request=request,
                recorded_by=actor,
                **_shown(notices, person.customer.register_id),
            )
        )
    return ObjectionRecord.objects.bulk_create(records)


def _shown(notices: dict[int, tuple[ConsentNotice, str]], register_id: int) -> dict:
    notice, language = notices.get(register_id, (None, ""))
    return {"notice": notice, "notice_language": language if notice else ""}
