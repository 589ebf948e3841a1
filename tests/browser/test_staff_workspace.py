"""A staff user's day in a real browser: Swedish UI, search as you type, an interaction on the
timeline, a refused business ID, and another register's user locked out."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from crm.models import Interaction
from crm.validators import ERROR_BUSINESS_ID

from ..factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def csp_violations(page):
    """Collect console errors about the Content Security Policy (inline scripts or styles)."""
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return violations


def test_a_staff_users_day_in_swedish(sign_in, live_server, page, staff_a, staff_b, register_a, csp_violations):
    customer = CustomerFactory(register=register_a, organisation_name="Merituuli Oy", business_id="0201256-6")
    CustomerFactory(register=register_a, organisation_name="Kivirinne Ky")

    sign_in(staff_a)
    # Switch the language to Swedish through the header's switcher.
    page.locator("#language-select").select_option("sv")
    page.locator("form.language-form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    # Find the customer by a substring, typed into the search box (search as you type).
    page.get_by_role("navigation", name="Register").get_by_role("link", name=register_a.name_sv).click()
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name="Kivirinne Ky")).to_be_visible()
    page.locator("#id_q").press_sequentially("tuul", delay=40)
    expect(results.get_by_role("link", name="Kivirinne Ky")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"q=tuul"))  # The search is in the address: back and bookmarks work.
    results.get_by_role("link", name="Merituuli Oy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merituuli Oy")

    # Add an interaction and see it on the timeline.
    page.locator(f"a[href='{customer.get_absolute_url()}interactions/new/']").click()
    page.locator("#id_kind").select_option("call_in")
    page.locator("#id_subject").fill("Frågade om mässan")
    page.locator("#id_text").fill("Ringer tillbaka på måndag.")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".timeline")).to_contain_text("Frågade om mässan")
    assert Interaction.objects.get(customer=customer).staff_user == staff_a

    # A business ID with a wrong check digit is refused, in Swedish, next to the field.
    page.locator(f"a[href='{customer.get_absolute_url()}edit/']").click()
    page.locator("#id_business_id").fill("0201256-7")
    page.locator("main form button[type=submit]").click()
    with translation.override("sv"):
        swedish_error = str(ERROR_BUSINESS_ID)
    with translation.override("en"):
        assert swedish_error != str(ERROR_BUSINESS_ID)
    expect(page.locator("#id_business_id_error")).to_have_text(swedish_error)
    expect(page.locator("#id_business_id")).to_have_value("0201256-7")  # The input is kept.
    customer.refresh_from_db()
    assert customer.business_id == "0201256-6"
    assert csp_violations == []

    # Another register's user gets 404 on this customer.
    page.locator("header form[action$='/logout/'] button").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "sv")  # Signed out, the page keeps the user's language.
    page.locator("#language-select").select_option("fi")
    page.locator("form.language-form button[type=submit]").click()
    page.wait_for_load_state()
    sign_in(staff_b)
    response = page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    assert response.status == 404
    assert "Merituuli Oy" not in page.content()
