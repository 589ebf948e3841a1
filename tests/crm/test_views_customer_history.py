"""A customer's history: every change and view of it, a merged record's included, for the register's owners."""

import pytest
from django.urls import reverse
from django.utils import translation

from crm.models import Customer
from duplicates.services import customer_merge
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _history_url(customer):
    return reverse("crm:customer-history", kwargs={"register": customer.register.slug, "code": customer.code})


def test_the_owner_reads_both_records_history_on_the_survivor_after_a_merge(client, register_a, owner_a, handler_a):
    survivor = CustomerFactory(register=register_a, organisation_name="Kahvila Aalto Oy")
    merged = CustomerFactory(register=register_a, organisation_name="Kahvila Aalto")
    client.force_login(handler_a)
    client.get(merged.get_absolute_url())  # viewed before the merge
    Customer.objects.filter(pk=merged.pk).update(city="Espoo")
    customer_merge(actor=handler_a, survivor=survivor, merged=[merged], choices={"organisation_name": survivor.pk})

    client.force_login(owner_a)
    detail = client.get(survivor.get_absolute_url())
    assert _history_url(survivor) in detail.text
    history = client.get(_history_url(survivor))
    assert history.status_code == 200
    rows = history.context["rows"]

    # The survivor's entries and the merged record's, each under the name it had.
    assert {row.object_repr for row in rows} >= {"Kahvila Aalto Oy", "Kahvila Aalto"}
    viewed = [row for row in rows if row.action_code == "access" and row.object_repr == "Kahvila Aalto"]
    assert viewed  # the view of the merged record before the merge


def test_others_neither_see_the_link_nor_open_the_page(client, register_a, handler_a, staff_a):
    customer = CustomerFactory(register=register_a)
    for user in (handler_a, staff_a):
        client.force_login(user)
        assert _history_url(customer) not in client.get(customer.get_absolute_url()).text
        assert client.get(_history_url(customer)).status_code == 403
