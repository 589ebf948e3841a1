"""The consent and objection history on the customer's page (issue 22): every period with its evidence and the
text shown, for every user who may see the customer, and for nobody else."""

import pytest
from django.http import Http404

from privacy.rights import consent, selectors
from privacy.rights.models import ConsentRecord

from ...conftest import TwoFactorClient
from ...factories import ConsentNoticeFactory, PersonCustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return TwoFactorClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def customer(register_a, staff_a):
    person = PersonCustomerFactory(register=register_a)
    notice = ConsentNoticeFactory(register=register_a, version="2026-7", text_en="Newsletter text 2026-7.")
    record = consent.consent_give(
        actor=staff_a,
        customer=person,
        purpose=ConsentRecord.Purpose.NEWSLETTER,
        channel=ConsentRecord.Channel.IN_PERSON,
        notice=notice,
        language="en",
    )
    consent.consent_withdraw(consent=record, actor=staff_a, channel=ConsentRecord.Channel.PHONE)
    return person


def test_the_customer_page_shows_each_period_with_its_text(client, customer, staff_a, readonly_a):
    for user in (staff_a, readonly_a):
        client.force_login(user)
        page = client.get(customer.get_absolute_url()).content.decode()
        assert "Consents and objections" in page
        assert "Version 2026-7, shown in English" in page
        assert "Newsletter text 2026-7." in page
        assert "in person" in page  # given through
        assert "phone" in page  # withdrawn through
        assert page.count(f"recorded by {staff_a.get_full_name()}") == 2


def test_a_user_without_access_to_the_register_sees_nothing_of_it(client, customer, staff_b):
    client.force_login(staff_b)
    for url in (customer.get_absolute_url(), f"/privacy/consents/{customer.register.slug}/{customer.code}/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Newsletter text 2026-7." not in response.content.decode()
    # The selector refuses on its own, whatever page asks it.
    with pytest.raises(Http404):
        selectors.consent_history_for_user(user=staff_b, customer=customer)
