"""The rights page of every kind of request: reachable from the request, 404 for other registers' staff, 403
for read-only staff, and the decision letter readable by staff once sent."""

import pytest
from django.urls import reverse

from privacy.requests.models import DataSubjectRequest
from privacy.rights import refusals
from privacy.rights import services as rights

from ...factories import PersonCustomerFactory
from .. import rights_steps, steps

pytestmark = pytest.mark.django_db

Kind = DataSubjectRequest.Kind


@pytest.fixture(autouse=True)
def _english_pages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.mark.parametrize("kind", [k for k in Kind.values if k != Kind.ACCESS])
def test_each_kind_has_its_page_linked_from_the_request(client, register_a, handler_a, staff_b, readonly_a, kind):
    customer = PersonCustomerFactory(register=register_a, last_name="Sivullinen")
    request = rights_steps.in_progress([register_a], handler_a, kind=kind, records=[customer])
    url = reverse("privacy:rights", kwargs={"code": request.code})
    client.force_login(handler_a)
    assert url in client.get(reverse("privacy:request-detail", kwargs={"code": request.code})).content.decode()

    page = client.get(url)

    assert page.status_code == 200
    assert "Sivullinen" in page.content.decode()
    client.force_login(staff_b)
    assert client.get(url).status_code == 404
    client.force_login(readonly_a)
    assert client.get(url).status_code == 403


def test_an_access_request_offers_only_the_refusal_to_an_approver(client, register_a, handler_a, owner_a):
    request = steps.in_progress(register_a, handler_a)
    client.force_login(owner_a)
    detail = client.get(reverse("privacy:request-detail", kwargs={"code": request.code})).content.decode()
    url = reverse("privacy:rights", kwargs={"code": request.code})
    assert url in detail
    page = client.get(url).content.decode()
    assert reverse("privacy:rights-refuse", kwargs={"code": request.code}) in page
    assert reverse("privacy:rights-prepare", kwargs={"code": request.code}) not in page


def test_staff_read_the_letter_as_sent_and_others_get_404(client, register_a, handler_a, owner_a, staff_b):
    customer = PersonCustomerFactory(register=register_a)
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[customer])
    letter_url = reverse("privacy:rights-letter", kwargs={"code": request.code})
    client.force_login(handler_a)
    assert client.get(letter_url).status_code == 404  # nothing sent yet
    rights.objection_apply(request=request, actor=handler_a)
    rights_steps.prepared(request, handler_a)
    refusals.rights_request_decide(request=request, actor=owner_a)

    response = client.get(letter_url)

    assert response.status_code == 200
    assert response.content.decode() == request.letters.get().html
    assert "sandbox" in response["Content-Security-Policy"]
    client.force_login(staff_b)
    assert client.get(letter_url).status_code == 404


def test_the_decision_form_is_post_only_and_for_approvers(client, register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.RESTRICTION, records=[customer])
    rights.restriction_apply(request=request, actor=handler_a)
    client.force_login(handler_a)
    assert client.post(reverse("privacy:rights-prepare", kwargs={"code": request.code})).status_code == 302
    decide = reverse("privacy:rights-decide", kwargs={"code": request.code})
    assert client.post(decide).status_code == 403
    client.force_login(owner_a)
    assert client.get(decide).status_code == 405
    assert client.post(decide).status_code == 302
    request.refresh_from_db()
    assert request.state == DataSubjectRequest.State.RESPONDED


@pytest.mark.parametrize("value", ["not-a-uuid", "\x00", "1" * 300])
def test_the_ledger_with_a_customer_that_is_not_a_code_shows_the_ledger_without_a_customer(
    client, register_a, staff_a, value
):
    PersonCustomerFactory(register=register_a, last_name="Luovutettu")
    client.force_login(staff_a)

    response = client.get(reverse("privacy:disclosures", kwargs={"register": register_a.slug}), {"customer": value})

    assert response.status_code == 200
    assert response.context["customer"] is None
