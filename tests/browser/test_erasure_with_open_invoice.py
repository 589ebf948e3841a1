"""A person asks to be erased; an open invoice keeps one record. A handler computes the plan, an owner reviews and
executes it, and the letter explains what was kept, why, and how to complain (PRIVACY.md "Erasure and its
exceptions", "Refusal")."""

import pytest

from crm.models import Customer, Invoice
from privacy.models import DataSubjectRequest
from registers.models import Role

from ..conftest import grant
from ..factories import InteractionFactory, InvoiceFactory, PersonCustomerFactory, RegisterFactory
from ..privacy import rights_steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_erasure_blocked_in_part_by_an_open_invoice_is_walked_to_its_letter(
    page, live_server, sign_in, register_a, handler_a, owner_a
):
    events = RegisterFactory(organisation=register_a.organisation, slug="tapahtumat", name_fi="Tapahtumarekisteri")
    grant(handler_a, events, Role.HANDLER)
    grant(owner_a, events, Role.OWNER)
    billed = PersonCustomerFactory(register=register_a, first_name="Eeva", last_name="Laskullinen")
    InvoiceFactory(customer=billed, number="L-2026-17", status=Invoice.Status.OPEN)
    attendee = PersonCustomerFactory(register=events, first_name="Eeva", last_name="Laskullinen")
    InteractionFactory(customer=attendee, subject="Messukäynti")
    request = rights_steps.in_progress(
        [register_a, events], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[billed, attendee]
    )
    rights = f"{live_server.url}/privacy/requests/{request.code}/rights/"

    # The handler computes the plan: a dry run, nothing is erased yet.
    sign_in(handler_a)
    page.goto(f"{live_server.url}/privacy/requests/{request.code}/")
    page.locator(f"a[href='/privacy/requests/{request.code}/rights/']").click()
    page.wait_for_load_state()
    page.locator("form[action$='/erasure/plan/'] button").click()
    page.wait_for_load_state()
    plan = page.locator("#erasure-plan")
    kept = plan.locator("tr.plan-keep").first
    assert "Eeva Laskullinen" in kept.inner_text()
    assert "avoin lasku" in kept.inner_text()
    assert "Eeva Laskullinen" in plan.locator("tr.plan-delete").inner_text()
    assert Customer.objects.filter(pk=attendee.pk).exists()
    page.locator("form[action$='/rights/prepare/'] button").click()
    page.wait_for_load_state()

    # The owner, who did not prepare it, reviews the plan and executes it with an explanation.
    page.context.clear_cookies()
    sign_in(owner_a)
    page.goto(rights)
    assert page.locator("#erasure-plan tr.plan-keep").count() == 2  # the customer and its open invoice
    page.locator("form[action$='/erasure/execute/'] textarea[name=text]").fill(
        "Avoin laskusi L-2026-17 on vielä maksamatta, joten asiakastietosi säilytetään, kunnes lasku on maksettu."
    )
    page.locator("form[action$='/erasure/execute/'] button").click()
    page.wait_for_load_state()

    assert page.locator("#request-state").inner_text() == "osittain evätty"
    assert not Customer.objects.filter(pk=attendee.pk).exists()
    assert Customer.objects.filter(pk=billed.pk).exists()
    page.locator("#letter-link").click()
    page.wait_for_load_state()
    letter = page.content()
    assert "Poistetut tiedot" in letter
    assert "Säilytetyt tiedot ja syy" in letter
    assert "avoin lasku" in letter
    assert "17 artiklan 3 kohdan e alakohta" in letter
    assert "Avoin laskusi L-2026-17 on vielä maksamatta" in letter
    assert "Tietosuojavaltuutetun toimisto, PL 800, 00531 Helsinki" in letter
    assert "hallinto-oikeuteen" in letter
