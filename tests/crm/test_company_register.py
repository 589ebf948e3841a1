"""The new-organisation page filled from the company register (PRH answers recorded, served locally)."""

import re

import pytest
from django.core.signing import TimestampSigner
from django.urls import reverse

from crm import company_register
from crm.company_register import ERROR_INVALID_BUSINESS_ID, ERROR_UNKNOWN_COMPANY, SOURCE_NOTICE
from crm.models import Customer

from ..companies.conftest import recorded

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

API = "/opendata-ytj-api/v3"
DYNAVA = "0100130-4"
UNREACHABLE = "The company register could not be reached."


@pytest.fixture(autouse=True)
def _empty_cache(private_cache):
    """No PRH answer is cached from another test (a cache of the test's own, see tests/conftest.py)."""


@pytest.fixture
def prh(httpserver, settings):
    settings.PRH_API_URL = httpserver.url_for(API)
    settings.PRH_TIMEOUT = 0.5
    return httpserver


def create_url(register, kind="organisation"):
    return reverse("crm:customer-create", kwargs={"register": register.slug, "kind": kind})


def look_up(client, register, query):
    return client.get(create_url(register), {"lookup": query})


def record_of(response) -> str:
    return re.search(r'name="company_record" value="([^"]+)"', response.content.decode()).group(1)


def serve(prh, name, business_id=DYNAVA):
    prh.expect_request(f"{API}/companies", query_string={"businessId": business_id}).respond_with_json(recorded(name))


def save(client, register, record, **data):
    form = {"version": 1, "organisation_name": "Dynava Oy", "business_id": DYNAVA, "company_record": record}
    return client.post(create_url(register), {**form, **data})


def test_a_business_id_fills_the_form_and_shows_the_facts(prh, client, staff_a, register_a):
    serve(prh, "company_active.json")
    client.force_login(staff_a)
    response = look_up(client, register_a, DYNAVA)
    form = response.context["form"]
    assert form.initial["organisation_name"] == "Dynava Oy"
    assert form.initial["business_id"] == DYNAVA
    assert form.initial["street_address"] == "Valimotie 17-19 B 12a"
    assert form.initial["postal_code"] == "00380"
    page = response.content.decode()
    assert "Status in the company register" in page
    assert "Active" in page
    assert "Osakeyhtiö" in page or "Limited company" in page
    assert "82200" in page
    assert "Visiting address" in page
    assert "Valimotie 17-19 B 12a, 00380 HELSINKI" in page
    assert "PL 123, 00381 HELSINKI" in page
    assert str(SOURCE_NOTICE) in page
    assert record_of(response)


def test_saving_keeps_the_registers_facts_and_names_the_source(prh, client, staff_a, register_a):
    serve(prh, "company_active.json")
    client.force_login(staff_a)
    record = record_of(look_up(client, register_a, DYNAVA))
    assert save(client, register_a, record).status_code == 302
    customer = Customer.objects.get(register=register_a)
    assert customer.source == Customer.Source.TRADE_REGISTER
    assert customer.company_status == "active"
    assert customer.company_facts["business_line"]["code"] == "82200"
    assert customer.company_data_fetched_at is not None
    page = client.get(customer.get_absolute_url()).content.decode()
    assert str(SOURCE_NOTICE) in page


def tampered(record: str) -> str:
    return record[:-3] + ("AAA" if not record.endswith("AAA") else "BBB")


@pytest.mark.parametrize(
    ("change", "business_id"),
    [(tampered, DYNAVA), (lambda record: record, "0201256-6"), (lambda record: "", DYNAVA)],
    ids=["tampered", "another business ID", "none"],
)
def test_a_record_that_does_not_hold_saves_a_plain_staff_entered_customer(
    prh, client, staff_a, register_a, change, business_id
):
    serve(prh, "company_active.json")
    client.force_login(staff_a)
    record = change(record_of(look_up(client, register_a, DYNAVA)))
    assert save(client, register_a, record, business_id=business_id).status_code == 302
    customer = Customer.objects.get(register=register_a)
    assert (customer.source, customer.company_status, customer.company_facts) == ("staff", "", {})


def test_a_stale_record_saves_a_plain_customer(prh, client, staff_a, register_a, monkeypatch):
    serve(prh, "company_active.json")
    client.force_login(staff_a)
    record = record_of(look_up(client, register_a, DYNAVA))
    monkeypatch.setattr(company_register, "RECORD_MAX_AGE", -1)
    save(client, register_a, record)
    assert Customer.objects.get(register=register_a).source == Customer.Source.STAFF


def test_a_record_signed_for_something_else_is_refused(client, staff_a, register_a, settings):
    settings.PRH_API_URL = "http://127.0.0.1:9/v3"
    client.force_login(staff_a)
    forged = TimestampSigner(salt="crm.company-register.record").sign_object({"business_id": DYNAVA})
    save(client, register_a, forged)
    assert Customer.objects.get(register=register_a).source == Customer.Source.STAFF


def test_an_unknown_business_id_says_so_and_the_form_still_saves(prh, client, staff_a, register_a):
    serve(prh, "company_unknown.json")
    client.force_login(staff_a)
    response = look_up(client, register_a, DYNAVA)
    assert str(ERROR_UNKNOWN_COMPANY) in response.content.decode()
    assert 'name="company_record"' not in response.content.decode()
    assert save(client, register_a, "").status_code == 302


def test_an_invalid_business_id_is_refused_without_asking_prh(prh, client, staff_a, register_a):
    client.force_login(staff_a)
    response = look_up(client, register_a, "0100130-5")
    assert str(ERROR_INVALID_BUSINESS_ID) in response.content.decode()
    assert prh.log == []


def test_a_server_error_says_the_register_could_not_be_reached(prh, client, staff_a, register_a):
    prh.expect_request(f"{API}/companies").respond_with_json(recorded("error_500.json"), status=500)
    client.force_login(staff_a)
    response = look_up(client, register_a, DYNAVA)
    assert UNREACHABLE in response.content.decode()
    assert "You can fill in the details by hand." in response.content.decode()
    assert save(client, register_a, "").status_code == 302


def test_a_timeout_says_the_register_could_not_be_reached(prh, client, staff_a, register_a):
    import time

    def slow(request):
        time.sleep(1.0)
        from werkzeug import Response

        return Response("{}", content_type="application/json")

    prh.expect_request(f"{API}/companies").respond_with_handler(slow)
    client.force_login(staff_a)
    assert UNREACHABLE in look_up(client, register_a, DYNAVA).content.decode()


def test_without_prh_there_is_no_look_up_box(client, staff_a, register_a, settings):
    settings.PRH_API_URL = ""
    client.force_login(staff_a)
    page = client.get(create_url(register_a)).content.decode()
    assert 'name="lookup"' not in page
    assert "Look up" not in page


def test_a_name_search_lists_matches_that_link_to_their_look_up(prh, client, staff_a, register_a):
    prh.expect_request(f"{API}/companies", query_string={"name": "Esimerkki", "page": "1"}).respond_with_json(
        recorded("search_name_page1.json")
    )
    client.force_login(staff_a)
    page = look_up(client, register_a, "Esimerkki").content.decode()
    assert "250 companies found." in page
    assert 'href="?lookup=1000000-0"' in page


def test_the_look_up_never_runs_for_a_person(prh, client, staff_a, register_a):
    client.force_login(staff_a)
    response = client.get(create_url(register_a, "person"), {"lookup": DYNAVA})
    assert response.status_code == 200
    assert 'name="lookup"' not in response.content.decode()
    assert prh.log == []


def test_a_read_only_user_gets_403_and_no_look_up(prh, client, readonly_a, register_a):
    client.force_login(readonly_a)
    assert look_up(client, register_a, DYNAVA).status_code == 403
    assert prh.log == []


def test_another_registers_staff_get_404(prh, client, staff_b, register_a):
    client.force_login(staff_b)
    assert look_up(client, register_a, DYNAVA).status_code == 404
    assert prh.log == []


@pytest.mark.parametrize(
    ("name", "label"), [("company_ceased.json", "ceased"), ("company_liquidation.json", "liquidation")]
)
def test_a_ceased_or_liquidated_organisation_is_flagged_on_its_page_and_the_list(
    prh, client, staff_a, register_a, name, label
):
    business_id = recorded(name)["companies"][0]["businessId"]["value"]
    serve(prh, name, business_id)
    client.force_login(staff_a)
    record = record_of(look_up(client, register_a, business_id))
    save(client, register_a, record, business_id=business_id, organisation_name="Esimerkki Oy")
    customer = Customer.objects.get(register=register_a)
    assert label in customer.company_status
    detail = client.get(customer.get_absolute_url()).content.decode()
    assert re.search(r'badge badge-danger">[^<]*' + label.capitalize()[:5], detail, re.IGNORECASE)
    listing = client.get(reverse("crm:customer-list", kwargs={"register": register_a.slug})).content.decode()
    assert re.search(r"badge-danger[^<]*>[^<]*" + label[:5], listing, re.IGNORECASE)
