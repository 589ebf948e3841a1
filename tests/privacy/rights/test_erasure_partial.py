"""Erasure through the rights page when something must stay (PRIVACY.md "Erasure and its exceptions"):

- an open invoice keeps only what the claim needs (name, address, the unpaid invoice), and everything else of the
  customer goes; the request is partly refused, the approver is told exactly that, the letter says what went and what
  stayed and why;
- searches for the person in the access log lose the words searched for;
- free text in records that stay and that names an erased person is listed in the plan, and the handler's decision
  (redact or keep) is recorded and carried out.
"""

import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from crm import services as crm_services
from crm.models import ContactPerson, Customer, Interaction, Invoice
from privacy.requests.models import DataSubjectRequest
from privacy.retention.holds import legal_hold_place
from privacy.retention.redaction import REDACTED_VALUE
from privacy.rights import erasure
from privacy.rights.models import ErasureAction

from ...factories import (
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    PersonCustomerFactory,
)
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Action = ErasureAction.Action


@pytest.fixture(autouse=True)
def _english_pages(settings):
    settings.LANGUAGE_CODE = "en"


def url(name, request, **kwargs):
    return reverse(f"privacy:{name}", kwargs={"code": request.code, **kwargs})


def plan_and_prepare(client, request, handler):
    client.force_login(handler)
    assert client.post(url("rights-erasure-plan", request)).status_code == 302
    assert client.post(url("rights-prepare", request)).status_code == 302
    request.refresh_from_db()
    assert request.state == State.REVIEW


def execute(client, request, approver, text=""):
    client.force_login(approver)
    client.get(url("rights", request))  # shows, and so clears, the messages of earlier steps
    response = client.post(url("rights-erasure-execute", request), {"text": text}, follow=True)
    assert response.status_code == 200
    request.refresh_from_db()
    return [str(m) for m in response.context["messages"]]


def test_an_open_invoice_keeps_only_the_claims_data_and_the_rest_of_the_customer_is_erased(
    client, register_a, handler_a, owner_a, staff_a
):
    customer = PersonCustomerFactory(
        register=register_a,
        first_name="Eeva",
        last_name="Laskullinen",
        street_address="Kauppakatu 3",
        postal_code="90100",
        city="Oulu",
        email="eeva.laskullinen@example.fi",
        mobile="+358401234567",
        extra_info="Allergia pähkinöille",
    )
    customer = crm_services.customer_update(
        actor=staff_a, customer=customer, data={"occupation": "Opettaja"}, version=customer.version
    )
    open_invoice = InvoiceFactory(customer=customer, number="L-2026-17", status=Invoice.Status.OPEN)
    paid = InvoiceFactory(customer=customer, number="L-2025-03", status=Invoice.Status.PAID)
    note = InteractionFactory(customer=customer, subject="Puhelu", text="Kertoi terveydentilastaan")
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[customer], language="en"
    )
    plan_and_prepare(client, request, handler_a)

    page = client.get(url("rights", request)).content.decode()
    assert "keep only what the ground needs" in page
    assert "Erased:" in page

    shown = execute(client, request, owner_a, text="Your invoice L-2026-17 is unpaid.")

    assert request.state == State.PARTLY_REFUSED
    assert shown == [
        "The erasure was executed in part: 2 records were erased, 1 kept with only the data their ground needs and "
        "1 kept whole. The letter tells the person what was kept and why."
    ]
    kept = Customer.objects.get(pk=customer.pk)
    assert (kept.first_name, kept.last_name) == ("Eeva", "Laskullinen")
    assert (kept.street_address, kept.postal_code, kept.city) == ("Kauppakatu 3", "90100", "Oulu")
    assert (kept.email, str(kept.mobile), kept.extra_info, kept.occupation) == ("", "", "", "")
    assert kept.date_of_birth is None
    assert kept.processing_restricted
    assert Invoice.objects.filter(pk=open_invoice.pk).exists()
    assert not Invoice.objects.filter(pk=paid.pk).exists()
    assert not Interaction.objects.filter(pk=note.pk).exists()
    # The trail of the kept record shows what changed, not the values that went.
    entries = LogEntry.objects.filter(content_type__model="customer", object_id=customer.pk)
    trail = " ".join(str(e.changes) + str(e.changes_text) for e in entries)
    assert "Opettaja" not in trail
    assert "eeva.laskullinen" not in trail
    last = entries.filter(action=LogEntry.Action.UPDATE).order_by("-timestamp", "-id").first()
    assert {"email", "mobile", "extra_info"} <= set(last.changes)
    assert last.actor == owner_a
    letter = request.letters.get().text
    assert "Data kept in part, and why" in letter
    assert "Kept: first name, last name" in letter
    assert "street address" in letter.split("Kept:")[1].split("\n")[0]
    erased_line = letter.split("Erased:")[1].split("\n")[0]
    for label in ("e-mail", "mobile phone", "extra information", "occupation", "date of birth"):
        assert label in erased_line
    assert "last name" not in erased_line
    assert "Invoice (" in letter.split("Data kept, and why")[1]
    assert "Data erased" in letter
    assert "Your invoice L-2026-17 is unpaid." in letter


def test_keeping_everything_is_reported_as_nothing_erased(client, register_a, handler_a, owner_a):

    customer = PersonCustomerFactory(register=register_a, email="pidetty@example.fi")
    legal_hold_place(
        actor=owner_a,
        register=register_a,
        customer=customer,
        reason="Riita-asia 12/2026",
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[customer]
    )
    plan_and_prepare(client, request, handler_a)

    shown = execute(client, request, owner_a, text="A court case about you is pending.")

    assert request.state == State.REFUSED
    assert shown == ["Nothing was erased: every record is kept on a legal ground. The refusal letter was sent."]
    assert Customer.objects.get(pk=customer.pk).email == "pidetty@example.fi"


def test_searches_for_the_erased_person_leave_the_access_log_without_the_words_searched(
    client, register_a, handler_a, owner_a, staff_a
):
    customer = PersonCustomerFactory(
        register=register_a, first_name="Ulla", last_name="Hakusana", email="ulla.hakusana@example.fi"
    )
    other = PersonCustomerFactory(register=register_a, first_name="Olli", last_name="Muu")
    client.force_login(staff_a)
    export = reverse("crm:customer-export", kwargs={"register": register_a.slug})
    for query in ("Ulla Hakusana", "ulla.hakusana@example.fi", "Olli Muu"):
        b"".join(client.get(export, {"q": query}).streaming_content)
    searches = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__export="customers_csv")
    assert sorted(e.additional_data["filter"]["q"] for e in searches) == sorted(
        ["Ulla Hakusana", "ulla.hakusana@example.fi", "Olli Muu"]
    )
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[customer]
    )
    plan_and_prepare(client, request, handler_a)

    execute(client, request, owner_a)

    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert Customer.objects.filter(pk=other.pk).exists()
    terms = sorted(e.additional_data["filter"]["q"] for e in searches.all())
    assert terms == sorted([REDACTED_VALUE, REDACTED_VALUE, "Olli Muu"])
    redacted = [e for e in searches.all() if e.additional_data["filter"]["q"] == REDACTED_VALUE]
    assert all(e.additional_data["redacted"]["erasure_request"] == request.reference for e in redacted)
    assert all(e.actor == staff_a and e.additional_data["rows"] is not None for e in redacted)


def test_free_text_naming_an_erased_contact_person_waits_for_the_handlers_decision(
    client, register_a, handler_a, owner_a
):
    organisation = CustomerFactory(register=register_a, organisation_name="Rakennus Oy")
    person = ContactPersonFactory(
        customer=organisation, first_name="Pekka", last_name="Poistuva", phone="+358401234567"
    )
    called = InteractionFactory(customer=organisation, subject="Soitto", text="Soita Pekalle numeroon 040 123 4567.")
    named = InteractionFactory(
        customer=organisation, subject="Sopimus", text="Pekka Poistuva allekirjoitti sopimuksen."
    )
    unrelated = InteractionFactory(customer=organisation, subject="Muu", text="Soita vaihteeseen 09 123 4567.")
    request = rights_steps.in_progress([register_a], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[person])
    client.force_login(handler_a)
    client.post(url("rights-erasure-plan", request))

    plan = erasure.plan_current(request)
    mentions = {a.object_code: a for a in plan.actions.filter(action=Action.MENTION)}
    assert set(mentions) == {called.code, named.code}
    assert mentions[called.code].fields == ["text"]
    assert unrelated.code not in mentions
    page = client.get(url("rights", request)).content.decode()
    assert url("rights-erasure-mention", request, item=called.code) in page
    assert client.post(url("rights-prepare", request)).status_code == 302

    # Executing before every mention is decided changes nothing.
    shown = execute(client, request, owner_a)
    assert request.state == State.REVIEW
    assert shown == [str(erasure.ERROR_MENTIONS_UNDECIDED)]
    assert ContactPerson.objects.filter(pk=person.pk).exists()

    client.force_login(handler_a)
    keep_without_reason = client.post(
        url("rights-erasure-mention", request, item=named.code), {"decision": "keep"}, follow=True
    )
    assert str(erasure.ERROR_KEEP_NOTE_REQUIRED) in keep_without_reason.content.decode()
    client.post(url("rights-erasure-mention", request, item=called.code), {"decision": "redact"})
    client.post(
        url("rights-erasure-mention", request, item=named.code),
        {"decision": "keep", "decision_note": "The signed contract names its signatory."},
    )
    decided = {a.object_code: a for a in erasure.plan_current(request).actions.filter(action=Action.MENTION)}
    assert decided[called.code].decision == "redact"
    assert decided[called.code].decided_by == handler_a
    assert decided[named.code].decision_note == "The signed contract names its signatory."

    execute(client, request, owner_a)

    assert request.state == State.RESPONDED
    assert not ContactPerson.objects.filter(pk=person.pk).exists()
    called.refresh_from_db()
    assert "123 4567" not in called.text
    assert called.text == f"Soita Pekalle numeroon {REDACTED_VALUE}."
    named.refresh_from_db()
    assert named.text == "Pekka Poistuva allekirjoitti sopimuksen."
    unrelated.refresh_from_db()
    assert unrelated.text == "Soita vaihteeseen 09 123 4567."
    trail = " ".join(
        str(e.changes) for e in LogEntry.objects.filter(content_type__model="interaction", object_id=called.pk)
    )
    assert "123 4567" not in trail
    letter = request.letters.get().text
    with translation.override(request.language):
        removed = ngettext(
            "Your name or contact details were removed from %(n)s record about someone else.",
            "Your name or contact details were removed from %(n)s records about someone else.",
            1,
        ) % {"n": 1}
        kept = ngettext(
            "%(n)s record about someone else that names you was kept as it is, as part of that record.",
            "%(n)s records about someone else that name you were kept as they are, as part of those records.",
            1,
        ) % {"n": 1}
    assert removed in letter
    assert kept in letter
