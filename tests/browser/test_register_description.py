from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
# First and last heading, and the "created" label, as a reader sees them in each language.
EXPECTED = {
    "fi": ("1. Rekisterin nimi", "16. Oikeus tehdä valitus valvontaviranomaiselle", "Laadittu"),
    "sv": ("1. Registrets namn", "16. Rätt att lämna in klagomål till tillsynsmyndigheten", "Upprättad"),
    "en": ("1. Name of the register", "16. Right to lodge a complaint", "Created"),
}


@pytest.fixture
def plain_static_names(settings):
    # The live server serves static files through the finders, which know no manifest-hashed names;
    # plain names let the screenshot show the page with its stylesheet.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def switch_language(page, code):
    page.locator("#language-select").select_option(code)
    page.locator("form.language-form button[type=submit]").click()
    page.wait_for_load_state()


def test_a_public_description_reads_in_finnish_swedish_and_english(live_server, page, plain_static_names):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    RESULTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/registers/kemi-vitality-crm/description/")
    for code, (first, last, created) in EXPECTED.items():
        switch_language(page, code)
        assert page.locator("html").get_attribute("lang") == code
        assert page.get_by_role("heading", name=first).is_visible()
        assert page.get_by_role("heading", name=last).is_visible()
        assert page.locator(".description-dates dt").first.inner_text() == created
        # The controller's address is shown with its name.
        assert page.get_by_text("Valtakatu 26, 94100 Kemi").is_visible()
        page.screenshot(path=RESULTS / f"register-description-{code}.png", full_page=True)
    pdf = page.request.get(f"{live_server.url}/registers/kemi-vitality-crm/description.pdf")
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:4] == b"%PDF"
