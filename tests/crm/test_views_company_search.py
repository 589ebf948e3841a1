"""Adding organisations from a search of the company register (PRH), several at once: a handler's work."""

import copy

import pytest
from django.urls import reverse

from crm.models import Customer
from registers.models import CustomerField

from ..companies.conftest import recorded
from ..factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PAGE = copy.deepcopy(recorded("search_name_page1.json"))
# The recorded search's IDs are placeholders; the customer model checks the check digit.
IDS = ["2000001-6", "2000002-4", "2000003-2"]
for company, business_id in zip(PAGE["companies"], IDS, strict=True):
    company["businessId"]["value"] = business_id


@pytest.fixture
def prh(httpserver, settings):
    settings.PRH_API_URL = httpserver.url_for("/v3")
    settings.PRH_TIMEOUT = 2.0
    httpserver.expect_request("/v3/companies", query_string={"name": "Esimerkki", "page": "1"}).respond_with_json(PAGE)
    return httpserver


@pytest.fixture
def collecting(register_a):
    register_a.collected_fields = [CustomerField.BUSINESS_ID, CustomerField.ADDRESS]
    register_a.save()
    return register_a


def _url(register) -> str:
    return reverse("crm:company-search", kwargs={"register": register.slug})


def test_a_search_lists_the_companies_and_marks_those_the_register_has(client, handler_a, collecting, prh):
    CustomerFactory(register=collecting, business_id=IDS[0])
    client.force_login(handler_a)
    html = client.get(_url(collecting), {"name": "Esimerkki"}).content.decode()
    assert "250 companies found." in html
    assert "Page 1 of 3." in html
    assert "in the register" in html
    for business_id in IDS[1:]:
        assert f'value="{business_id}"' in html
    assert f'value="{IDS[0]}"' not in html
    assert "Source: PRH open data (CC BY 4.0)." in html


def test_adding_creates_the_chosen_organisations_with_prh_as_their_source(client, handler_a, collecting, prh):
    client.force_login(handler_a)
    response = client.post(_url(collecting), {"name": "Esimerkki", "business_id": IDS[1:]}, follow=True)
    assert "Companies added: 2. Already in the register: 0." in response.content.decode()
    added = Customer.objects.filter(register=collecting, business_id__in=IDS[1:])
    assert added.count() == 2
    assert {customer.source for customer in added} == {Customer.Source.TRADE_REGISTER}
    assert all(customer.company_status and customer.company_data_fetched_at for customer in added)
    assert not Customer.objects.filter(business_id=IDS[0]).exists()


def test_a_company_already_in_the_register_is_not_added_twice(client, handler_a, collecting, prh):
    CustomerFactory(register=collecting, business_id=IDS[1])
    client.force_login(handler_a)
    response = client.post(_url(collecting), {"name": "Esimerkki", "business_id": IDS[1:]}, follow=True)
    assert "Companies added: 1. Already in the register: 1." in response.content.decode()
    assert Customer.objects.filter(register=collecting, business_id=IDS[1]).count() == 1


def test_staff_are_refused_and_other_registers_are_not_found(client, staff_a, staff_b, collecting, prh):
    client.force_login(staff_a)
    assert client.get(_url(collecting), {"name": "Esimerkki"}).status_code == 403
    assert client.post(_url(collecting), {"name": "Esimerkki", "business_id": IDS}).status_code == 403
    client.force_login(staff_b)
    assert client.get(_url(collecting)).status_code == 404
    assert not Customer.objects.filter(business_id__in=IDS).exists()


def test_without_prh_the_page_does_not_exist(client, handler_a, collecting, settings):
    settings.PRH_API_URL = ""
    client.force_login(handler_a)
    assert client.get(_url(collecting)).status_code == 404


def test_prh_down_says_so_and_adds_nothing(client, handler_a, collecting, httpserver, settings):
    settings.PRH_API_URL = httpserver.url_for("/v3")
    httpserver.expect_request("/v3/companies").respond_with_data("boom", status=500)
    client.force_login(handler_a)
    html = client.post(_url(collecting), {"name": "Esimerkki", "business_id": IDS}).content.decode()
    assert "The company register could not be reached." in html
    assert not Customer.objects.filter(business_id__in=IDS).exists()


def test_a_register_without_business_ids_cannot_add_and_an_empty_search_is_refused(client, handler_a, register_a, prh):
    register_a.collected_fields = [CustomerField.EMAIL]
    register_a.save()
    client.force_login(handler_a)
    html = client.post(_url(register_a), {"name": "Esimerkki", "business_id": IDS}, follow=True).content.decode()
    assert "does not collect business IDs" in html
    assert "Give a name, a town or a line of business" in client.get(_url(register_a), {"page": "2"}).content.decode()
    assert not Customer.objects.filter(business_id__in=IDS).exists()


def test_the_customer_list_links_importers_to_imports_and_the_company_register(
    client, handler_a, staff_a, collecting, settings
):
    settings.PRH_API_URL = "http://127.0.0.1:9/v3"
    list_url = reverse("crm:customer-list", kwargs={"register": collecting.slug})
    import_url = reverse("imports:batch-list", kwargs={"register": collecting.slug})
    client.force_login(handler_a)
    html = client.get(list_url).content.decode()
    assert import_url in html
    assert _url(collecting) in html
    client.force_login(staff_a)
    html = client.get(list_url).content.decode()
    assert import_url not in html
    assert _url(collecting) not in html
