"""Objection (GDPR 21; PRIVACY.md "Objection"): direct marketing stops at once, without an approval step, in every
register of the request the person is in; a person in no register gets an answer and nothing is created."""

import csv
import io

import pytest
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
