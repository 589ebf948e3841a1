"""Withdrawal of consent (GDPR 7(3); PRIVACY.md "Withdrawal of consent"): one click from a link without signing
in, the history kept, the marketing use stopped at once."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from privacy.requests.models import DataSubjectRequest
from privacy.rights import consent, refusals
from privacy.rights.models import ConsentRecord

from ...factories import PersonCustomerFactory
from .. import rights_steps

pytestmark = pytest.mark.django_db

Kind = DataSubjectRequest.Kind
State = DataSubjectRequest.State
Purpose = ConsentRecord.Purpose


def given(customer, actor, purpose=Purpose.DIRECT_MARKETING):
    return consent.consent_give(
        actor=actor, customer=customer, purpose=purpose, channel=ConsentRecord.Channel.WEB, notice_version="2026-01"
    )


def test_the_link_withdraws_the_consent_without_signing_in_and_keeps_the_history(register_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    record = given(customer, staff_a)
    url = reverse("privacy:consent-withdraw", kwargs={"token": consent.withdraw_token_make(record)})
    assert url.startswith("/privacy/request/")  # under the public prefix the URL walk allows
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")

    page = anonymous.get(url)
    assert page.status_code == 200
    assert "Withdraw my consent" in page.content.decode()
    record.refresh_from_db()
    assert record.in_force  # a GET changes nothing: mail scanners open links too

    response = anonymous.post(url)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.withdrawn_at is not None
    assert record.withdrawn_channel == ConsentRecord.Channel.LINK
    assert record.withdrawn_by is None
    customer.refresh_from_db()
    assert customer.marketing_objection  # the marketing use stops at once
    assert "This consent has been withdrawn" in anonymous.get(url).content.decode()
    # A second click changes nothing; giving consent again starts a new period beside the old one.
    anonymous.post(url)
    again = given(customer, staff_a)
    assert list(ConsentRecord.objects.filter(customer=customer).order_by("given_at", "id")) == [record, again]


def test_a_tampered_or_foreign_link_opens_nothing(register_a, staff_a):
    record = given(PersonCustomerFactory(register=register_a), staff_a)
    token = consent.withdraw_token_make(record)
    anonymous = Client()
    assert anonymous.post(reverse("privacy:consent-withdraw", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    # A status link of a request has another salt and cannot withdraw a consent.
    from django.core import signing

    foreign = signing.Signer(salt="privacy.request.status").sign(str(record.code))
    assert anonymous.post(reverse("privacy:consent-withdraw", kwargs={"token": foreign})).status_code == 404
    record.refresh_from_db()
    assert record.in_force


def test_a_consent_in_force_cannot_be_given_twice(register_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    given(customer, staff_a)
    with pytest.raises(ValidationError):
        given(customer, staff_a)


def test_a_research_consent_withdrawn_does_not_touch_marketing(register_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    consent.consent_withdraw(consent=given(customer, staff_a, purpose=Purpose.RESEARCH))
    customer.refresh_from_db()
    assert not customer.marketing_objection


def test_a_withdrawal_request_withdraws_every_consent_in_force_and_the_letter_lists_them(
    register_a, handler_a, owner_a, staff_a
):
    customer = PersonCustomerFactory(register=register_a)
    marketing = given(customer, staff_a)
    newsletter = given(customer, staff_a, purpose=Purpose.NEWSLETTER)
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=Kind.CONSENT_WITHDRAWAL, records=[customer], language="en"
    )

    withdrawn = consent.request_consents_withdraw(request=request, actor=handler_a)

    assert {c.pk for c in withdrawn} == {marketing.pk, newsletter.pk}
    marketing.refresh_from_db()
    assert (marketing.withdrawn_channel, marketing.withdrawn_request) == (ConsentRecord.Channel.REQUEST, request)
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)
    letter = request.letters.get().text
    assert "direct marketing" in letter
    assert "newsletter" in letter


def test_the_customer_page_lists_the_history_with_withdrawal_links(client, register_a, staff_a, staff_b, readonly_a):
    customer = PersonCustomerFactory(register=register_a)
    record = given(customer, staff_a)
    url = reverse("privacy:customer-consents", kwargs={"register": register_a.slug, "code": customer.code})
    give = reverse("privacy:customer-consent-give", kwargs={"register": register_a.slug, "code": customer.code})
    client.force_login(staff_a)
    html = client.get(url).content.decode()
    assert consent.withdraw_token_make(record) in html
    assert client.post(give, {"purpose": "newsletter", "channel": "phone"}).status_code == 302
    assert ConsentRecord.objects.filter(customer=customer, purpose="newsletter").exists()
    client.force_login(staff_b)
    assert client.get(url).status_code == 404
    client.force_login(readonly_a)
    page = client.get(url)
    assert page.status_code == 200
    # The link withdraws without signing in: read-only staff must not get it.
    assert consent.withdraw_token_make(record) not in page.content.decode()
    assert client.post(give, {"purpose": "research", "channel": "phone"}).status_code == 403
    assert not ConsentRecord.objects.filter(purpose="research").exists()
