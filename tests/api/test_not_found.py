"""A path under the APIs that no route matches (a code that is not a UUID, a typo) is a 404 in problem details,
in the caller's language, as every other error of the APIs; the web application keeps its own 404 page."""

import pytest
from django.utils import translation

from ..factories import RegisterFactory
from .factories import WRITE, KeyClient, api_client

pytestmark = pytest.mark.django_db

TITLES = {"fi": "Ei löytynyt.", "sv": "Hittades inte.", "en": "Not found."}


@pytest.fixture
def register():
    return RegisterFactory(slug="kaupunki")


PATHS = [
    "/api/v1/registers/kaupunki/customers/not-a-uuid/",
    "/api/v1/registers/kaupunki/invoices/123/",
    "/api/v1/registers/kaupunki/customers/00000000-0000-0000-0000-000000000000/contact-persons/x/",
    "/api/v1/no-such-resource/",
    "/api/v2/registers/",
    "/gdpr-api/v1/profiles/not-a-uuid",
]


@pytest.mark.parametrize("keyed", [True, False])
def test_a_path_that_names_nothing_is_a_problem_in_the_callers_language(register, keyed):
    key = api_client({register: WRITE})[1] if keyed else None
    for path in PATHS:
        for language, title in TITLES.items():
            response = KeyClient(key, HTTP_ACCEPT_LANGUAGE=language).get(path)

            assert response.status_code == 404, path
            assert response["Content-Type"] == "application/problem+json", path
            body = response.json()
            assert (body["status"], body["title"], body["code"]) == (404, title, "not_found"), (path, language)


def test_the_web_application_keeps_its_own_404_page(client):
    with translation.override("en"):
        response = client.get("/crm/no-such-page/here/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
