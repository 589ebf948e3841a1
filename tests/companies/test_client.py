"""The PRH client against a local server serving recorded answers: look-up, search, errors, cache."""

import json
import re
import threading
import time

import pytest
from werkzeug import Response

from companies import client as prh
from companies.client import (
    CompanyRegisterNotConfigured,
    CompanyRegisterUnavailable,
    company_get,
    company_search,
)
from companies.facts import CompanyStatus

from .conftest import recorded

API = "/opendata-ytj-api/v3"
UNAVAILABLE = re.escape("The company register could not be reached.")


def answer_id(server, business_id, name, status=200):
    server.expect_request(f"{API}/companies", query_string={"businessId": business_id}).respond_with_json(
        recorded(name), status=status
    )


def requests_made(server) -> list:
    return [request for request, _response in server.log]


# -- company_get ----------------------------------------------------------------------------------------------


def test_it_finds_a_company_by_business_id(prh_server):
    answer_id(prh_server, "0100130-4", "company_active.json")
    facts = company_get("0100130-4")
    assert facts.name == "Dynava Oy"
    assert facts.status == CompanyStatus.ACTIVE
    request = requests_made(prh_server)[0]
    assert "Rekisteri" in request.headers["User-Agent"]
    assert request.headers["Accept"] == "application/json"


def test_it_compacts_the_business_id_before_asking(prh_server):
    answer_id(prh_server, "0100130-4", "company_active.json")
    assert company_get(" FI01001304 ").business_id == "0100130-4"


@pytest.mark.parametrize(
    ("business_id", "status"),
    [
        ("1234567-1", CompanyStatus.LIQUIDATION),
        ("2345678-0", CompanyStatus.BANKRUPTCY),
        ("0112038-9", CompanyStatus.RESTRUCTURING),
        ("0100002-9", CompanyStatus.CEASED),
    ],
)
def test_it_reports_the_status_of_troubled_and_ceased_companies(prh_server, business_id, status):
    names = {
        "1234567-1": "company_liquidation.json",
        "2345678-0": "company_bankruptcy.json",
        "0112038-9": "company_restructuring.json",
        "0100002-9": "company_ceased.json",
    }
    answer_id(prh_server, business_id, names[business_id])
    assert company_get(business_id).status == status


def test_an_unknown_business_id_answered_with_an_empty_list_is_none(prh_server):
    answer_id(prh_server, "2670112-0", "company_unknown.json")
    assert company_get("2670112-0") is None


def test_an_unknown_business_id_answered_with_404_is_none(prh_server):
    answer_id(prh_server, "3012345-8", "error_500.json", status=404)
    assert company_get("3012345-8") is None


def test_an_answer_about_another_company_is_not_taken_for_the_one_asked(prh_server):
    answer_id(prh_server, "2670112-0", "company_active.json")
    assert company_get("2670112-0") is None


@pytest.mark.parametrize(
    "business_id", ["0100130-5", "0100130", "", pytest.param("1" * 1000, id="very-long"), "131052-308T", None, 1001304]
)
def test_an_invalid_business_id_never_reaches_the_network(prh_server, business_id):
    assert company_get(business_id) is None
    assert requests_made(prh_server) == []


def test_without_a_configured_url_nothing_is_looked_up(settings, httpserver):
    settings.PRH_API_URL = ""
    with pytest.raises(CompanyRegisterNotConfigured) as error:
        company_get("0100130-4")
    assert isinstance(error.value, CompanyRegisterUnavailable)
    assert str(error.value) == "The company register look-up is not configured."
    with pytest.raises(CompanyRegisterNotConfigured):
        company_search(name="Dynava")
    with pytest.raises(CompanyRegisterNotConfigured):
        prh.all_companies_download(".")
    assert httpserver.log == []


# -- errors -----------------------------------------------------------------------------------------------------


def test_a_server_error_makes_the_register_unavailable(prh_server):
    answer_id(prh_server, "0100130-4", "error_500.json", status=500)
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_get("0100130-4")


def test_invalid_json_makes_the_register_unavailable(prh_server):
    prh_server.expect_request(f"{API}/companies").respond_with_data(
        recorded("invalid.json", raw=True), content_type="application/json"
    )
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_get("0100130-4")


@pytest.mark.parametrize("body", [[], {"companies": "none"}, {"totalResults": "1", "companies": []}, "null"])
def test_json_of_another_shape_makes_the_register_unavailable(prh_server, body):
    prh_server.expect_request(f"{API}/companies").respond_with_json(body)
    with pytest.raises(CompanyRegisterUnavailable):
        company_search(name="Dynava")


def test_a_timeout_makes_the_register_unavailable(prh_server, settings):
    settings.PRH_TIMEOUT = 0.2
    released = threading.Event()

    def slow(request):
        released.wait(5)  # far longer than the timeout, unless the test lets it go
        return Response(json.dumps(recorded("company_active.json")), content_type="application/json")

    prh_server.expect_request(f"{API}/companies").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_get("0100130-4")
    assert time.monotonic() - started < 2
    # Let the handler finish inside this test, so that its late answer is not logged in the next one.
    released.set()
    deadline = time.monotonic() + 5
    while not prh_server.log and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_refused_connection_makes_the_register_unavailable(settings):
    settings.PRH_API_URL = "http://127.0.0.1:9/opendata-ytj-api/v3"
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_get("0100130-4")


def test_a_malformed_configured_url_makes_the_register_unavailable(settings):
    settings.PRH_API_URL = "avoindata.prh.fi without a scheme"
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_get("0100130-4")


def rate_limited(server, retry_after="2", *, once=True):
    expect = server.expect_oneshot_request if once else server.expect_request
    expect(f"{API}/companies").respond_with_data(
        recorded("rate_limited.txt"), status=429, content_type="text/plain", headers={"Retry-After": retry_after}
    )


def test_it_waits_as_long_as_retry_after_says_then_succeeds(prh_server, waits):
    rate_limited(prh_server, "2")
    answer_id(prh_server, "0100130-4", "company_active.json")
    assert company_get("0100130-4").name == "Dynava Oy"
    assert waits == [2.0]
    assert len(requests_made(prh_server)) == 2


def test_it_gives_up_after_two_retries_when_rate_limited_forever(prh_server, waits):
    rate_limited(prh_server, "1", once=False)
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_get("0100130-4")
    assert waits == [1.0, 1.0]
    assert len(requests_made(prh_server)) == 3


def test_it_does_not_wait_longer_than_the_cap(prh_server, waits):
    rate_limited(prh_server, "3600", once=False)
    with pytest.raises(CompanyRegisterUnavailable):
        company_get("0100130-4")
    assert waits == []
    assert len(requests_made(prh_server)) == 1


def test_a_retry_after_date_waits_the_default(prh_server, waits):
    rate_limited(prh_server, "Wed, 21 Oct 2026 07:28:00 GMT")
    answer_id(prh_server, "0100130-4", "company_active.json")
    assert company_get("0100130-4") is not None
    assert waits == [prh.RETRY_AFTER_DEFAULT]


# -- cache ------------------------------------------------------------------------------------------------------


def test_a_found_company_is_cached(prh_server):
    answer_id(prh_server, "0100130-4", "company_active.json")
    first = company_get("0100130-4")
    assert company_get("FI01001304") == first
    assert len(requests_made(prh_server)) == 1


def test_an_unknown_company_is_remembered_briefly(prh_server):
    answer_id(prh_server, "2670112-0", "company_unknown.json")
    assert company_get("2670112-0") is None
    assert company_get("2670112-0") is None
    assert len(requests_made(prh_server)) == 1


def test_a_failure_is_not_cached(prh_server):
    prh_server.expect_oneshot_request(f"{API}/companies").respond_with_json(recorded("error_500.json"), status=500)
    answer_id(prh_server, "0100130-4", "company_active.json")
    with pytest.raises(CompanyRegisterUnavailable):
        company_get("0100130-4")
    assert company_get("0100130-4").name == "Dynava Oy"
    assert len(requests_made(prh_server)) == 2


# -- company_search ---------------------------------------------------------------------------------------------


def answer_search(server, page, name):
    server.expect_request(f"{API}/companies", query_string={"name": "Esimerkki", "page": str(page)}).respond_with_json(
        recorded(name)
    )


def test_a_search_counts_its_pages_from_the_total(prh_server):
    answer_search(prh_server, 1, "search_name_page1.json")
    result = company_search(name=" Esimerkki ")
    assert (result.total, result.page, result.pages, result.has_next) == (250, 1, 3, True)
    assert [c.name for c in result.companies] == ["Esimerkki 1-0 Oy", "Esimerkki 1-1 Oy", "Esimerkki 1-2 Oy"]


def test_walking_the_pages_stops_at_the_last_one(prh_server):
    for page in (1, 2, 3):
        answer_search(prh_server, page, f"search_name_page{page}.json")
    # PRH would answer page 4 with page 1 again, forever: the walk must end on the count.
    prh_server.expect_request(f"{API}/companies", query_string={"name": "Esimerkki", "page": "4"}).respond_with_json(
        recorded("search_name_page1.json")
    )
    pages = [company_search(name="Esimerkki")]
    while pages[-1].has_next:
        pages.append(company_search(name="Esimerkki", page=pages[-1].page + 1))
    assert [p.page for p in pages] == [1, 2, 3]
    assert len(requests_made(prh_server)) == 3
    assert not pages[-1].has_next


def test_a_page_past_the_end_is_labelled_as_the_first_page_prh_sent(prh_server):
    answer_search(prh_server, 5, "search_name_page1.json")
    result = company_search(name="Esimerkki", page=5)
    assert (result.page, result.pages) == (1, 3)
    assert result.companies[0].name == "Esimerkki 1-0 Oy"


@pytest.mark.parametrize("page", [0, -3, "x", None, "2"])
def test_a_nonsense_page_number_asks_for_a_sensible_one(prh_server, page):
    prh_server.expect_request(f"{API}/companies").respond_with_json(recorded("search_name_page1.json"))
    company_search(name="Esimerkki", page=page)
    assert requests_made(prh_server)[0].args["page"] == ("2" if page == "2" else "1")


def test_a_search_sends_town_and_business_line(prh_server):
    prh_server.expect_request(
        f"{API}/companies", query_string={"location": "Tampere", "mainBusinessLine": "43320", "page": "1"}
    ).respond_with_json(recorded("search_name_page1.json"))
    assert company_search(location="Tampere", business_line="43320").total == 250


def test_a_search_without_criteria_asks_nothing(prh_server):
    result = company_search(name="  ", location=None)
    assert (result.companies, result.total, result.pages) == ((), 0, 0)
    assert requests_made(prh_server) == []


def test_a_search_with_no_hits_is_an_empty_page(prh_server):
    prh_server.expect_request(f"{API}/companies").respond_with_json(recorded("company_unknown.json"))
    result = company_search(name="Ei ole")
    assert (result.companies, result.total, result.page, result.pages, result.has_next) == ((), 0, 1, 0, False)


def test_a_search_skips_a_record_without_a_business_id(prh_server):
    body = recorded("search_name_page1.json")
    body["companies"][1]["businessId"] = None
    prh_server.expect_request(f"{API}/companies").respond_with_json(body)
    assert len(company_search(name="Esimerkki").companies) == 2


def test_a_rate_limited_search_fails_after_retries(prh_server, waits):
    rate_limited(prh_server, "0", once=False)
    with pytest.raises(CompanyRegisterUnavailable, match=UNAVAILABLE):
        company_search(name="Esimerkki")
    assert waits == [0.0, 0.0]
