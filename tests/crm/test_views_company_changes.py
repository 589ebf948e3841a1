"""The customer page's changes from the company register: shown, applied or dismissed by those who may change data."""

import pytest
from django.urls import reverse

from companies.facts import CompanyStatus
from crm.models import CompanyChange, Customer

from ..factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def changed(register_a):
    customer = CustomerFactory(register=register_a, city="Helsinki", company_status=CompanyStatus.ACTIVE)
    change = CompanyChange.objects.create(customer=customer, field="city", old_value="Helsinki", new_value="Espoo")
    return customer, change


def _url(change, decision):
    customer = change.customer
    kwargs = {"register": customer.register.slug, "code": customer.code, "change": change.code}
    return reverse(f"crm:company-change-{decision}", kwargs=kwargs)


def test_the_customer_page_lists_a_proposed_change_with_its_buttons(client, handler_a, changed):
    customer, change = changed
    client.force_login(handler_a)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "Changes in the company register" in html
    assert "Helsinki → Espoo" in html
    assert _url(change, "apply") in html
    assert _url(change, "dismiss") in html


def test_applying_changes_the_customer_and_records_who_decided(client, staff_a, changed):
    customer, change = changed
    client.force_login(staff_a)
    response = client.post(_url(change, "apply"), follow=True)
    assert "The change was applied." in response.content.decode()
    customer.refresh_from_db()
    change.refresh_from_db()
    assert customer.city == "Espoo"
    assert (change.state, change.decided_by) == (CompanyChange.State.APPLIED, staff_a)
    assert "Helsinki → Espoo" not in response.content.decode()


def test_dismissing_keeps_the_customer_as_it_was(client, handler_a, changed):
    customer, change = changed
    client.force_login(handler_a)
    client.post(_url(change, "dismiss"))
    change.refresh_from_db()
    assert change.state == CompanyChange.State.DISMISSED
    assert Customer.objects.get(pk=customer.pk).city == "Helsinki"


def test_a_decided_change_is_gone_and_cannot_be_decided_again(client, handler_a, changed):
    _customer, change = changed
    client.force_login(handler_a)
    client.post(_url(change, "dismiss"))
    assert client.post(_url(change, "apply")).status_code == 404
    change.refresh_from_db()
    assert change.state == CompanyChange.State.DISMISSED


def test_a_read_only_user_sees_no_buttons_and_is_refused(client, readonly_a, changed):
    customer, change = changed
    client.force_login(readonly_a)
    assert _url(change, "apply") not in client.get(customer.get_absolute_url()).content.decode()
    assert client.post(_url(change, "apply")).status_code == 403
    change.refresh_from_db()
    assert change.state == CompanyChange.State.PROPOSED


def test_another_registers_user_gets_404_and_get_is_not_allowed(client, staff_b, staff_a, changed):
    _customer, change = changed
    client.force_login(staff_b)
    assert client.post(_url(change, "apply")).status_code == 404
    client.force_login(staff_a)
    assert client.get(_url(change, "apply")).status_code == 405
    change.refresh_from_db()
    assert change.state == CompanyChange.State.PROPOSED
