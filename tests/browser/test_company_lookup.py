"""A handler fills a new organisation from the company register in a real browser (PRH's answer recorded)."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.models import Customer

from ..companies.conftest import recorded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

API = "/opendata-ytj-api/v3"


def test_a_handler_looks_up_a_business_id_and_saves_the_organisation(
    sign_in, live_server, page, handler_a, register_a, httpserver, settings, private_cache
):
    settings.PRH_API_URL = httpserver.url_for(API)
    settings.LANGUAGE_CODE = "en"
    httpserver.expect_request(f"{API}/companies", query_string={"businessId": "0100130-4"}).respond_with_json(
        recorded("company_active.json")
    )
    sign_in(handler_a)
    page.goto(
        live_server.url + reverse("crm:customer-create", kwargs={"register": register_a.slug, "kind": "organisation"})
    )
    page.locator("#id_lookup").fill("0100130-4")
    page.locator("#id_lookup").press("Enter")
    page.wait_for_load_state()

    expect(page.locator("input[name=organisation_name]")).to_have_value("Dynava Oy")
    expect(page.locator("input[name=business_id]")).to_have_value("0100130-4")
    expect(page.locator(".company-facts")).to_be_visible()
    expect(page.get_by_text(re.compile(r"PRH.*CC BY 4\.0")).first).to_be_visible()

    page.locator("form[method=post] button[type=submit]").last.click()
    page.wait_for_load_state()
    customer = Customer.objects.get(register=register_a)
    assert customer.source == Customer.Source.TRADE_REGISTER
    expect(page).to_have_url(re.compile(re.escape(str(customer.code))))
    expect(page.locator(".company-facts")).to_contain_text("82200")
    expect(page.get_by_text(re.compile(r"PRH.*CC BY 4\.0")).first).to_be_visible()
