"""Objection (GDPR 21; PRIVACY.md "Objection"): direct marketing stops at once, without an approval step, in every
register of the request the person is in; a person in no register gets an answer and nothing is created."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Customer
from privacy.requests.models import DataSubjectRequest
from privacy.rights import refusals
from privacy.rights import services as rights
from privacy.rights.models import ObjectionRecord
from registers.models import Role

from ...conftest import grant
from ...factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory, RegisterFactory
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind


def label_names(client, register) -> list[str]:
    response = client.get(reverse("crm:customer-labels-csv", kwargs={"register": register.slug}))
    text = b"".join(response.streaming_content).decode()[1:]
    return [row[0] for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]]


@pytest.fixture
def sibling(register_a, handler_a, staff_a):
    register = RegisterFactory(organisation=register_a.organisation, slug="register-a2")
    grant(handler_a, register, Role.HANDLER)
    grant(staff_a, register, Role.STAFF)
    return register


def test_an_objection_takes_effect_at_once_in_every_register_the_person_is_in(
    client, register_a, sibling, handler_a, staff_a
):
    here = PersonCustomerFactory(register=register_a, first_name="Olli", last_name="Kieltäjä", street_address="Tie 1")
    there = PersonCustomerFactory(register=sibling, first_name="Olli", last_name="Kieltäjä", street_address="Tie 1")
    PersonCustomerFactory(register=sibling, first_name="Muu", last_name="Henkilö", street_address="Tie 2")
    client.force_login(staff_a)
    assert "Olli Kieltäjä" in label_names(client, register_a)
    request = rights_steps.in_progress([register_a, sibling], handler_a, kind=Kind.OBJECTION, records=[here, there])

    rights.objection_apply(request=request, actor=handler_a)

    # No review or approval in between: the very next export leaves the person out, in both registers.
    request.refresh_from_db()
    assert request.state == State.IN_PROGRESS
    assert "Olli Kieltäjä" not in label_names(client, register_a)
    assert label_names(client, sibling) == ["Muu Henkilö"]
    for customer in (here, there):
        customer.refresh_from_db()
        assert customer.marketing_objection
        assert customer.marketing_objection_at is not None
    records = ObjectionRecord.objects.filter(request=request)
    assert {r.register for r in records} == {register_a, sibling}
    assert {r.purpose for r in records} == {ObjectionRecord.Purpose.DIRECT_MARKETING}


def test_the_pdf_labels_leave_the_objector_out_too(client, register_a, handler_a, staff_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Kieltäjä", street_address="Tie 1")
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[customer])
    rights.objection_apply(request=request, actor=handler_a)
    client.force_login(staff_a)
    response = client.get(reverse("crm:customer-labels-pdf", kwargs={"register": register_a.slug}))
    assert not any("Kieltäjä" in " ".join(label) for label in response.context["labels"])


def test_an_objection_reaches_a_customer_whose_processing_is_restricted(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a, processing_restricted=True)
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[customer])
    rights.objection_apply(request=request, actor=handler_a)
    customer.refresh_from_db()
    assert customer.marketing_objection


def test_an_objection_for_a_person_in_no_register_is_answered_and_nothing_created(register_a, handler_a, owner_a):
    PersonCustomerFactory(register=register_a)
    customers_before = list(Customer.objects.values_list("pk", "version", "marketing_objection"))
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[], language="en")

    assert rights.objection_apply(request=request, actor=handler_a) == []
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)

    assert request.state == State.RESPONDED
    assert "We found no personal data about you" in request.letters.get().text
    assert not ObjectionRecord.objects.exists()
    assert list(Customer.objects.values_list("pk", "version", "marketing_objection")) == customers_before


def test_the_button_is_post_only_404_for_another_register_and_403_for_read_only(
    client, register_a, handler_a, staff_b, readonly_a
):
    customer = PersonCustomerFactory(register=register_a)
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[customer])
    url = reverse("privacy:rights-object", kwargs={"code": request.code})
    client.force_login(staff_b)
    assert client.post(url).status_code == 404
    client.force_login(readonly_a)
    assert client.post(url).status_code == 403
    client.force_login(handler_a)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    customer.refresh_from_db()
    assert customer.marketing_objection


def test_a_contact_person_objects_for_themself_and_their_organisation_is_left_as_it_was(register_a, handler_a):
    organisation = CustomerFactory(register=register_a, organisation_name="Kieltäjä Oy")
    person = ContactPersonFactory(customer=organisation, first_name="Kaisa", last_name="Kieltäjä")
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[person])

    rights.objection_apply(request=request, actor=handler_a)

    person.refresh_from_db()
    organisation.refresh_from_db()
    assert person.marketing_objection
    assert person.marketing_objection_at is not None
    assert not organisation.marketing_objection
    record = ObjectionRecord.objects.get(contact_person=person)
    assert (record.customer, record.register, record.request) == (organisation, register_a, request)


def test_an_objection_reaches_the_person_in_every_register_of_the_controller_and_no_other(client, handler_a, owner_a):
    """A person in three registers of one controller and one of another: the request names one register; marketing
    stops in all three of the controller's, the other controller's record is left as it was (GDPR 21(3))."""
    first = RegisterFactory(slug="kaupunki-1")
    second, third = (RegisterFactory(slug=f"kaupunki-{n}", organisation=first.organisation) for n in (2, 3))
    elsewhere = RegisterFactory(slug="toinen-kaupunki")
    assert elsewhere.organisation != first.organisation
    grant(handler_a, first, Role.HANDLER)
    grant(owner_a, first, Role.OWNER)
    address = "olli.kieltaja@example.fi"
    named = PersonCustomerFactory(register=first, first_name="Olli", last_name="Kieltäjä", email=address)
    also = PersonCustomerFactory(register=second, first_name="Olli", last_name="K.", email=address.upper())
    contact = ContactPersonFactory(customer=CustomerFactory(register=third), email=address)
    other_controller = PersonCustomerFactory(register=elsewhere, first_name="Olli", last_name="Kieltäjä", email=address)
    stranger = PersonCustomerFactory(register=second, email="joku.muu@example.fi")
    request = rights_steps.in_progress([first], handler_a, kind=Kind.OBJECTION, records=[named], language="en")

    records = rights.objection_apply(request=request, actor=handler_a)

    for record in (named, also, contact):
        record.refresh_from_db()
        assert record.marketing_objection, record
    for record in (other_controller, stranger):
        record.refresh_from_db()
        assert not record.marketing_objection
        assert record.version == 1
    assert not ObjectionRecord.objects.filter(customer__in=[other_controller, stranger]).exists()
    assert {r.register for r in records} == {first, second, third}
    # Each record names the request and the handler: an auditor sees why the flag was set.
    assert set(ObjectionRecord.objects.values_list("request", "recorded_by")) == {(request.pk, handler_a.pk)}
    event = request.events.get(action="objection_applied")
    assert event.payload == {"records": 3, "registers": sorted([first.slug, second.slug, third.slug])}
    # The letter names every register where marketing stopped, and says why more than the request named.
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)
    text = request.letters.get().text
    for register in (first, second, third):
        assert register.name_en in text
    assert elsewhere.name_en not in text
    assert "also covers registers that your request did not name" in text


def test_an_agents_address_is_not_taken_for_the_persons(register_a, sibling, handler_a):
    """Someone acting for the person proved their own address, not the person's: it finds nobody elsewhere."""
    agent = "asiamies@example.fi"
    agents_own = PersonCustomerFactory(register=sibling, email=agent)
    person = PersonCustomerFactory(register=register_a, email="")
    mandate = SimpleUploadedFile("valtakirja.pdf", b"%PDF-1.4 valtakirja", content_type="application/pdf")
    request = rights_steps.in_progress(
        [register_a],
        handler_a,
        kind=Kind.OBJECTION,
        records=[person],
        acting_for="Olli Kieltäjä",
        mandate=mandate,
        requester_email=agent,
    )

    rights.objection_apply(request=request, actor=handler_a)

    agents_own.refresh_from_db()
    person.refresh_from_db()
    assert person.marketing_objection
    assert not agents_own.marketing_objection
