"""Who may call the GDPR API: only a token the trusted issuer signed with RS256, for this audience, unexpired, with
the scope of the method. Every other call is 401 (the contract: "failed authorization → 401"), never 500, and
reads nothing."""

import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from auditlog.models import LogEntry
from cryptography.hazmat.primitives import serialization
from django.test import Client

from ...factories import PersonCustomerFactory, RegisterFactory
from .conftest import OTHER_KEY, PRIVATE_KEY, bearer, public_jwk, unsigned, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return PersonCustomerFactory(register=RegisterFactory(), profile_id=uuid.uuid4())


def _access_entries():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()


def test_a_valid_token_reads_the_person(issuer, person):
    response = bearer(issuer.token()).get(url(person.profile_id))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda i: i.token(exp=int(time.time()) - 10), id="expired"),
        pytest.param(lambda i: i.token(exp=None), id="no-exp"),
        pytest.param(lambda i: i.token(aud="another-service"), id="wrong-audience"),
        pytest.param(lambda i: i.token(aud=None), id="no-audience"),
        pytest.param(lambda i: i.token(iss="https://evil.example/realms/helsinki-tunnistus"), id="wrong-issuer"),
        pytest.param(lambda i: i.token(iss=i.url + "/"), id="issuer-not-exact"),
        pytest.param(lambda i: i.token(scopes=["profile", "gdprdelete"]), id="missing-query-scope"),
        pytest.param(lambda i: i.token(scopes=[]), id="no-scopes"),
        pytest.param(lambda i: i.token(authorization=None), id="no-authorization-claim"),
        pytest.param(lambda i: i.token(key=OTHER_KEY), id="signed-by-another-key"),
        pytest.param(lambda i: _tampered(i.token()), id="tampered-payload"),
        pytest.param(lambda i: unsigned(i.claims()), id="alg-none"),
        pytest.param(lambda i: _hs256_with_public_key(i), id="hs256-public-key-as-secret"),
        pytest.param(lambda i: i.token(kid="unknown-kid"), id="unknown-kid"),
        pytest.param(lambda i: "not-a-jwt", id="garbage"),
        pytest.param(lambda i: "", id="empty"),
    ],
)
def test_every_bad_token_is_401_and_reads_nothing(issuer, person, make):
    before = _access_entries()

    response = bearer(make(issuer)).get(url(person.profile_id))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _access_entries() == before


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt.utils.base64url_decode(payload).decode().replace('"substantial"', '"high"')
    return ".".join([header, jwt.utils.base64url_encode(claims.encode()).decode(), signature])


def _hs256_with_public_key(issuer) -> str:
    pem = PRIVATE_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    # PyJWT refuses a PEM as an HMAC secret; sign by hand as an attacker would.
    def part(data):
        return jwt.utils.base64url_encode(json.dumps(data).encode()).decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': 'test-key-1'})}.{part(issuer.claims())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"


def test_no_token_and_another_scheme_are_401(issuer, person):
    assert Client().get(url(person.profile_id)).status_code == 401
    response = Client(HTTP_AUTHORIZATION=f"Api-Key {issuer.token()}").get(url(person.profile_id))
    assert response.status_code == 401


def test_the_delete_scope_does_not_read_and_the_query_scope_does_not_delete(issuer, person):
    assert bearer(issuer.token(scopes=["gdprdelete"])).get(url(person.profile_id)).status_code == 401
    assert bearer(issuer.token(scopes=["gdprquery"])).delete(url(person.profile_id)).status_code == 401
    person.refresh_from_db()  # still there


@pytest.mark.parametrize("scope", ["gdprquery", "rekisteri.gdprquery"])
def test_the_scope_is_accepted_plain_and_with_the_api_prefix(issuer, person, scope):
    assert bearer(issuer.token(scopes=[scope])).get(url(person.profile_id)).status_code == 200


def test_keycloak_gives_only_the_part_after_the_last_dot_of_a_configured_scope(issuer, person, settings):
    settings.GDPR_API_QUERY_SCOPE = "rekisteri.gdprquery"

    assert bearer(issuer.token(scopes=["gdprquery"])).get(url(person.profile_id)).status_code == 200
    assert bearer(issuer.token(scopes=["rekisteri.gdprquery"])).get(url(person.profile_id)).status_code == 200
    assert bearer(issuer.token(scopes=["gdprdelete"])).get(url(person.profile_id)).status_code == 401


def test_a_url_named_scope_claim_is_read_as_configured(issuer, person, settings):
    settings.GDPR_API_AUTHORIZATION_FIELD = "https://api.hel.fi/auth"
    token = issuer.token(authorization=None, **{"https://api.hel.fi/auth": ["gdprquery"]})

    assert bearer(token).get(url(person.profile_id)).status_code == 200


def test_without_a_configured_issuer_every_call_is_401(issuer, person, settings, httpserver):
    token = issuer.token()
    settings.GDPR_API_ISSUER = ""

    assert bearer(token).get(url(person.profile_id)).status_code == 401
    assert httpserver.log == []


def test_an_unreachable_issuer_is_401_not_500(issuer, person, settings):
    settings.GDPR_API_ISSUER = "http://127.0.0.1:9"
    token = issuer.token(iss="http://127.0.0.1:9")

    response = bearer(token).get(url(person.profile_id))

    assert response.status_code == 401


def test_an_issuer_answering_500_or_not_json_is_401(issuer, person, httpserver):
    httpserver.clear()
    httpserver.expect_request("/realms/helsinki-tunnistus/.well-known/openid-configuration").respond_with_data(
        "<html>down</html>", status=200
    )
    assert bearer(issuer.token()).get(url(person.profile_id)).status_code == 401
    httpserver.clear()
    httpserver.expect_request("/realms/helsinki-tunnistus/.well-known/openid-configuration").respond_with_data(
        "", status=500
    )
    assert bearer(issuer.token()).get(url(person.profile_id)).status_code == 401


def test_the_documents_are_cached_and_a_rotated_key_is_fetched_once(issuer, person, httpserver):
    assert bearer(issuer.token()).get(url(person.profile_id)).status_code == 200
    assert bearer(issuer.token()).get(url(person.profile_id)).status_code == 200
    assert len(httpserver.log) == 2  # discovery + JWKS, once

    issuer.keys.append(public_jwk(OTHER_KEY, kid="rotated"))
    assert bearer(issuer.token(key=OTHER_KEY, kid="rotated")).get(url(person.profile_id)).status_code == 200
    assert len(httpserver.log) == 3  # the JWKS again, for the new key id

    # Made-up key ids do not make the service call the issuer for each token.
    for n in range(3):
        assert bearer(issuer.token(kid=f"made-up-{n}")).get(url(person.profile_id)).status_code == 401
    assert len(httpserver.log) == 3


def test_a_token_without_a_key_id_uses_the_only_key(issuer, person):
    token = jwt.encode(issuer.claims(), PRIVATE_KEY, "RS256")

    assert bearer(token).get(url(person.profile_id)).status_code == 200
