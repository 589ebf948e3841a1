"""The whole sign-in against a real OpenID provider on a loopback port (oidc-provider-mock: Authlib's server), as a
city's broker would answer: its own keys, its own authorization form, its own tokens and its logout."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from selfservice.models import IdentityLink, SubjectIdentity

from ..factories import PersonCustomerFactory, RegisterFactory

SUB = "0e2d43b8-2f7b-4bb4-a2d3-6c0a7e9c1b55"


@pytest.fixture
def real_provider(settings):
    with run_server_in_thread(require_nonce=True) as server:
        issuer = f"http://localhost:{server.server_port}"
        settings.SUBJECT_OIDC_ISSUER = issuer
        settings.SUBJECT_OIDC_CLIENT_ID = "rekisteri"
        settings.SUBJECT_OIDC_CLIENT_SECRET = "secret"
        yield issuer


def person(issuer: str, **claims) -> None:
    response = httpx.put(f"{issuer}/users/{SUB}", json=claims)
    assert response.status_code == 204, response.text


def test_a_person_signs_in_through_the_provider_and_sees_the_records(db, real_provider, client):
    person(
        real_provider,
        given_name="Sanna",
        family_name="Strand",
        email="sanna.strand@example.fi",
        email_verified=True,
        loa="high",
        national_identification_number="131052-308T",
    )
    records = [
        PersonCustomerFactory(
            register=RegisterFactory(), first_name="Sanna", last_name="Strand", email="sanna.strand@example.fi"
        )
        for _ in range(3)
    ]
    started = client.post("/my-data/sign-in/", {"next": "/my-data/"})
    authorize = started["Location"]
    assert authorize.startswith(f"{real_provider}/oauth2/authorize?")
    # The person at the provider's own page: chooses who they are and authorizes.
    answer = httpx.post(authorize, data={"sub": SUB})
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["location"])
    assert callback.path == "/my-data/callback/"
    response = client.get(callback.path, {k: v[0] for k, v in parse_qs(callback.query).items()})
    assert response.status_code == 302
    assert response["Location"] == "/my-data/"
    identity = SubjectIdentity.objects.get()
    assert identity.assurance == "high"
    assert identity.subject == SUB
    assert IdentityLink.objects.filter(state=IdentityLink.State.LINKED).count() == 3
    page = client.get("/my-data/").content.decode()
    assert all(record.register.name_fi in page or record.register.name_en in page for record in records)
    assert "131052-308T" not in page
    signed_out = client.post("/my-data/sign-out/")
    assert signed_out["Location"].startswith(f"{real_provider}/oauth2/end_session?")
