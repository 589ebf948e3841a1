"""Busy pages fit a laptop and a phone: nothing scrolls sideways and no word or date breaks in two.

A mid-word break ("29.11.2" / "026") comes from `overflow-wrap: anywhere` in a
column squeezed narrower than its words; a page wider than the window comes
from a wide table or grid that does not scroll inside its own box.
"""

import os

import pytest
from django.core.management import call_command

from registers import access_review as ar

from ..factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory
from ..privacy import steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

# Every word of the page that the browser laid out over more than one line. Words are split
# where a line may break in ordinary text (spaces, hyphens, slashes); very long tokens such as
# a SHA-256 checksum may be broken on purpose when they cannot fit, so they are left out.
BROKEN_WORDS = """
() => {
  const broken = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!element || !element.checkVisibility()) continue;  // In a closed <details>, say.
    if (element.closest('.visually-hidden, .skip-link, select, option, textarea, script, style')) continue;
    const words = /[^\\s\\-\\u2010-\\u2015\\/]+/g;
    let match;
    while ((match = words.exec(node.data))) {
      if (match[0].length < 2 || match[0].length > 30) continue;
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}
"""
# A folder for screenshots of the pages that fail, when looking into a failure.
SCREENSHOTS = os.environ.get("LAYOUT_SCREENSHOTS")
OVERFLOW = "() => document.scrollingElement.scrollWidth - window.innerWidth"


def check_fits(page, url, name):
    """Open `url` at both sizes and return the problems found, named for the assertion message."""
    problems = []
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        response = page.goto(url)
        assert response.status == 200, (url, response.status)
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            problems.append(f"{name} at {size}: {overflow}px of horizontal scroll")
        broken = page.evaluate(BROKEN_WORDS)
        if broken:
            problems.append(f"{name} at {size}: words broken over two lines: {broken}")
        if SCREENSHOTS and (overflow > 0 or broken):
            page.screenshot(path=f"{SCREENSHOTS}/{name.replace(' ', '-')}-{size}.png", full_page=True)
    return problems


def test_the_request_page_fits_a_laptop_and_a_phone(sign_in, live_server, page, register_a, handler_a):
    request = steps.in_progress(
        register_a,
        handler_a,
        name="Anna-Kaisa Väisänen-Heikkilä",
        email="anna-kaisa.vaisanen-heikkila@example.fi",
        details="Pyydän kaikki minusta tallennetut tiedot, myös puhelujen muistiinpanot.",
    )
    sign_in(handler_a)
    problems = check_fits(page, f"{live_server.url}/privacy/requests/{request.code}/", "request")
    assert not problems, "\n".join(problems)


def test_the_customer_list_shows_legal_flags_next_to_the_name(sign_in, live_server, page, register_a, staff_a):
    CustomerFactory(
        register=register_a,
        organisation_name="Pohjois-Pohjanmaan Matkailu- ja Kokouspalvelut Osuuskunta",
        business_id="0201256-6",
        email="asiakaspalvelu.matkailu@pohjois-pohjanmaan-matkailu.example.fi",
        city="Kemi",
        processing_restricted=True,
        marketing_objection=True,
    )
    PersonCustomerFactory(register=register_a, first_name="Aino", last_name="Laine", city="Tornio")
    sign_in(staff_a)
    url = f"{live_server.url}/crm/{register_a.slug}/"
    problems = check_fits(page, url, "customer list")
    assert not problems, "\n".join(problems)
    # The flags sit in the name's cell, where a reader looking for the customer sees them.
    for viewport in VIEWPORTS.values():
        page.set_viewport_size(viewport)
        page.goto(url)
        name_cell = page.locator("#customer-results tbody tr", has_text="Pohjois-Pohjanmaan").locator("td").first
        assert name_cell.locator(".badge").count() == 2
        for badge in name_cell.locator(".badge").all():
            box = badge.bounding_box()
            assert box["x"] >= 0, badge.inner_text()
            assert box["x"] + box["width"] <= viewport["width"], badge.inner_text()


def test_the_access_log_fits_a_laptop_and_a_phone(sign_in, live_server, page, register_a, owner_a, staff_a):
    customer = CustomerFactory(register=register_a, organisation_name="Merituuli Oy")
    ContactPersonFactory(customer=customer)
    sign_in(staff_a)
    # Entries with long details: a customer page and a filtered CSV export.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.request.get(f"{live_server.url}/crm/{register_a.slug}/customers.csv?q=merituuli&kind=organisation")
    ar.access_review_open(register=register_a, actor=owner_a)
    page.context.clear_cookies()
    sign_in(owner_a)
    url = f"{live_server.url}/registers/{register_a.slug}/audit/access/"
    problems = check_fits(page, url, "access log")
    assert page.locator("main table tbody tr").count() >= 2
    problems += check_fits(page, f"{live_server.url}/registers/{register_a.slug}/access/", "access rights")
    review = register_a.access_reviews.get()
    problems += check_fits(page, f"{live_server.url}{review.get_absolute_url()}", "access review")
    assert not problems, "\n".join(problems)


def test_a_public_description_fits_a_phone(live_server, page):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    problems = []
    for slug in ("kemi-vitality-crm", "helsinki-tourism-convention", "helsinki-contact-centre"):
        problems += check_fits(page, f"{live_server.url}/registers/{slug}/description/", slug)
    assert not problems, "\n".join(problems)
