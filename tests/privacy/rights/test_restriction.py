"""Restriction (GDPR 18; PRIVACY.md "Restriction"): data stays stored and visible, marked restricted, and is kept
out of edits, exports and mailings. Decision: the customer CSV leaves restricted rows out (a file taken out of the
system is use, art. 18(2)); the staff list and page still show them, with a badge."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm import services as crm_services
from privacy.requests.models import DataSubjectRequest
from privacy.rights import refusals
from privacy.rights import services as rights

from ...factories import PersonCustomerFactory
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind


@pytest.fixture(autouse=True)
def _english_pages(settings):
    # Pages are compared with the English source strings.
    settings.LANGUAGE_CODE = "en"


def restricted(register, handler, customer, **extra):
    request = rights_steps.in_progress([register], handler, kind=Kind.RESTRICTION, records=[customer], **extra)
    rights.restriction_apply(request=request, actor=handler)
    return request


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()[1:]
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_a_restriction_marks_the_customer_and_blocks_edits(register_a, handler_a, staff_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Rajoitettu")
    request = restricted(register_a, handler_a, customer)

    customer.refresh_from_db()
    assert customer.processing_restricted
    assert customer.processing_restricted_at is not None
    assert request.events.filter(action="restriction_applied").exists()
    with pytest.raises(ValidationError, match="restricted"):
        crm_services.customer_update(actor=staff_a, customer=customer, data={"city": "Oulu"}, version=customer.version)


def test_the_staff_page_shows_the_data_as_restricted_without_edit_controls(client, register_a, handler_a, staff_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Rajoitettu")
    restricted(register_a, handler_a, customer)
    client.force_login(staff_a)

    html = client.get(customer.get_absolute_url()).content.decode()

    assert "Rajoitettu" in html
    assert "Processing restricted" in html
    assert reverse("crm:customer-update", kwargs={"register": register_a.slug, "code": customer.code}) not in html
    listing = client.get(reverse("crm:customer-list", kwargs={"register": register_a.slug})).content.decode()
    assert "Rajoitettu" in listing
    assert "badge-danger" in listing


def test_an_edit_posted_anyway_changes_nothing(client, register_a, handler_a, staff_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Rajoitettu", city="Turku")
    restricted(register_a, handler_a, customer)
    client.force_login(staff_a)
    url = reverse("crm:customer-update", kwargs={"register": register_a.slug, "code": customer.code})
    client.post(url, {"last_name": "Muutettu", "city": "Oulu", "version": 2})
    customer.refresh_from_db()
    assert (customer.last_name, customer.city) == ("Rajoitettu", "Turku")


def test_restricted_customers_are_left_out_of_the_csv_and_the_mailing_labels(client, register_a, handler_a, staff_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Rajoitettu", street_address="Tie 1")
    PersonCustomerFactory(register=register_a, last_name="Tavallinen", street_address="Tie 2")
    client.force_login(staff_a)
    export = reverse("crm:customer-export", kwargs={"register": register_a.slug})
    labels = reverse("crm:customer-labels-csv", kwargs={"register": register_a.slug})
    assert "Rajoitettu" in str(csv_rows(client.get(export)))

    restricted(register_a, handler_a, customer)

    assert "Rajoitettu" not in str(csv_rows(client.get(export)))
    assert "Tavallinen" in str(csv_rows(client.get(export)))
    assert [row[0].split()[-1] for row in csv_rows(client.get(labels))[1:]] == ["Tavallinen"]


def test_the_restriction_is_answered_with_the_registers_named(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = restricted(register_a, handler_a, customer, language="en")
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)
    assert request.state == State.RESPONDED
    assert f"restricted in: {register_a.name_en}" in request.letters.get().text


def test_the_request_cannot_be_sent_for_review_before_the_restriction_is_applied(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.RESTRICTION, records=[customer])
    with pytest.raises(ValidationError, match="Apply the request"):
        rights_steps.prepared(request, handler_a)
    customer.refresh_from_db()
    assert not customer.processing_restricted


def test_another_registers_staff_gets_404_and_read_only_staff_403(client, register_a, handler_a, staff_b, readonly_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.RESTRICTION, records=[customer])
    url = reverse("privacy:rights-restrict", kwargs={"code": request.code})
    client.force_login(staff_b)
    assert client.post(url).status_code == 404
    client.force_login(readonly_a)
    assert client.post(url).status_code == 403
    customer.refresh_from_db()
    assert not customer.processing_restricted
    client.force_login(handler_a)
    assert client.post(url).status_code == 302
    customer.refresh_from_db()
    assert customer.processing_restricted
