"""A journalist asks for a register's contact details on the public form; a handler checks the purpose, exports the
data without the customers who object or are restricted, and answers the request as partly granted."""

import pytest

from openness.models import DocumentRequest
from privacy.rights.models import Disclosure

from ..factories import CustomerFactory, PersonCustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_public_form_to_a_partly_granted_answer_with_a_redacted_export(
    page, live_server, sign_in, register_a, handler_a, settings
):
    # The browser's address is every browser test's: the public forms' counter for it is not under test here.
    settings.PRIVACY_RATE_LIMITS = {"ip": (100000, 3600), "email": (100000, 3600)}
    PersonCustomerFactory(register=register_a, first_name="Aino", last_name="Annettava")
    PersonCustomerFactory(register=register_a, first_name="Kalle", last_name="Kieltäjä", marketing_objection=True)
    CustomerFactory(register=register_a, organisation_name="Rajoitettu Oy", processing_restricted=True)

    # The requester, in English.
    page.goto(f"{live_server.url}/openness/request/{register_a.organisation.code}/")
    page.locator("#language-select").select_option("en")
    page.locator("form.language-form button").click()
    page.wait_for_load_state()
    page.get_by_label("Which documents do you ask for?").fill("The contact details of the register's customers.")
    page.locator(f"input[name=registers][value={register_a.slug}]").check()
    page.get_by_label("Your name").fill("Toimittaja Tiina")
    page.get_by_label("What will you use the personal data for?").fill("An article on local business services.")
    page.get_by_label("Your right to process the data").fill("Journalistic purposes, GDPR art. 85")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_load_state()
    request = DocumentRequest.objects.get()
    assert request.diary_number in page.get_by_role("status").inner_text()

    # The handler, in Finnish.
    sign_in(handler_a)
    page.goto(f"{live_server.url}/openness/")
    page.locator("#language-select").select_option("fi")
    page.locator("form.language-form button").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=request.diary_number).click()
    page.get_by_role("button", name="Ota käsittelyyn").click()
    page.wait_for_load_state()
    assert "käyttötarkoituksen tarkistus sallii luovutuksen" in page.content()
    assert "2 asiakasta" in page.content()  # the objecting and the restricted customer are left out
    section = page.locator(f"section[aria-labelledby=disclose-{register_a.slug}]")
    section.get_by_label("Etunimi").check()
    section.get_by_label("Sukunimi").check()
    with page.expect_download() as download:
        section.get_by_role("button", name="Vie annettavat tiedot").click()
    exported = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115 (read at once)
    assert "Annettava" in exported
    assert "Kieltäjä" not in exported
    assert "Rajoitettu" not in exported
    assert Disclosure.objects.filter(recipient="Toimittaja Tiina").count() == 1

    page.goto(f"{live_server.url}/openness/{request.code}/")
    answer = page.locator("form[action$='/answer/']")
    answer.get_by_label("Vastaus").select_option("partly_granted")
    answer.get_by_label("Toimitustapa").select_option("email")
    answer.get_by_role("button").click()
    page.wait_for_load_state()
    request.refresh_from_db()
    assert (request.state, request.outcome) == (DocumentRequest.State.ANSWERED, "partly_granted")
    assert "annettu osittain" in page.content()
