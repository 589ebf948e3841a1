"""A person signs in with strong identification in Swedish, sees their data in three registers, objects to direct
marketing, files an identified request and signs out: the whole path in a real browser against a real OpenID
provider on a loopback port (oidc-provider-mock)."""

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from privacy.requests.models import DataSubjectRequest
from selfservice.models import IdentityLink

from ..factories import OrganisationFactory, PersonCustomerFactory, RegisterFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUB = "7b9d3c2e-58a1-4c0e-9a57-2f1e6d4c3b2a"


@pytest.fixture
def provider(settings, live_server):
    settings.SITE_URL = live_server.url
    with run_server_in_thread(require_nonce=True) as server:
        issuer = f"http://localhost:{server.server_port}"
        settings.SUBJECT_OIDC_ISSUER = issuer
        settings.SUBJECT_OIDC_CLIENT_ID = "rekisteri"
        settings.SUBJECT_OIDC_CLIENT_SECRET = "secret"
        claims = {
            "given_name": "Sara",
            "family_name": "Svensson",
            "email": "sara.svensson@example.se",
            "email_verified": True,
            "loa": "substantial",
            # A broker may send the identity code: it is dropped.
            "national_identification_number": "131052-308T",
        }
        assert httpx.put(f"{issuer}/users/{SUB}", json=claims).status_code == 204
        yield issuer


@pytest.fixture
def sv_context(browser):
    context = browser.new_context(locale="sv-SE")
    yield context
    context.close()


def test_a_person_uses_my_data_in_swedish(provider, live_server, sv_context):
    organisation = OrganisationFactory(name_fi="Testikaupunki", name_sv="Teststaden")
    registers = [
        RegisterFactory(organisation=organisation, name_sv=f"Kundregister för näringslivet {n}", direct_marketing=True)
        for n in range(3)
    ]
    for register in registers:
        PersonCustomerFactory(
            register=register,
            first_name="Sara",
            last_name="Svensson",
            email="sara.svensson@example.se",
            occupation="Turistguide",
        )
    page = sv_context.new_page()
    page.goto(f"{live_server.url}/my-data/")
    assert page.locator("html").get_attribute("lang") == "sv"
    page.get_by_role("button", name="Logga in med stark identifiering").click()
    # The provider's own page: the person chooses who they are.
    page.locator("input[name=sub]").fill(SUB)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{live_server.url}/my-data/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mina uppgifter"
    assert "Inloggad som Sara Svensson" in page.content()
    for register in registers:
        assert page.get_by_role("heading", name=register.name_sv).is_visible()
    assert "131052-308T" not in page.content()
    assert IdentityLink.objects.filter(state=IdentityLink.State.LINKED).count() == 3

    page.get_by_role("button", name="Motsätt dig direktmarknadsföring").click()
    assert page.get_by_role("status").inner_text().startswith("Du motsätter dig direktmarknadsföring")

    page.get_by_role("link", name="Gör en begäran").click()
    page.get_by_role("link", name="Teststaden").click()
    page.locator("input[name=kind][value=access]").check()
    page.get_by_label("Alla register hos denna personuppgiftsansvariga").check()
    page.get_by_role("button", name="Skicka begäran").click()
    page.wait_for_load_state()
    request = DataSubjectRequest.objects.get()
    assert request.state == DataSubjectRequest.State.TRIAGE
    assert request.reference in page.get_by_role("heading", level=1).inner_text()
    assert "Stark elektronisk identifiering" in page.content()

    # On a phone, the pages fit the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/my-data/", f"/my-data/requests/{request.code}/"):
        page.goto(f"{live_server.url}{path}")
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')]"
            ".filter(e => e.getBoundingClientRect().right > 392 && !e.closest('.table-wrap'))"
            ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)"
            " + ' ' + e.textContent.slice(0, 40))"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, (path, wide[:8])

    page.get_by_role("button", name="Logga ut").click()
    page.goto(f"{live_server.url}/my-data/")
    assert page.get_by_role("button", name="Logga in med stark identifiering").is_visible()
