"""Who may call the API: a key that is valid, unexpired, unrevoked and used from an allowed address."""

import datetime

import pytest
from django.utils import timezone, translation

from api.models import APIClient
from api.services import api_client_revoke
from registers.models import Membership, Role

from ..conftest import grant
from ..factories import RegisterFactory, UserFactory
from .factories import READ, WRITE, KeyClient, api_client, main_user

pytestmark = pytest.mark.django_db

REGISTERS = "/api/v1/registers/"


@pytest.fixture
def register():
    return RegisterFactory()


def test_a_valid_key_lists_exactly_the_registers_in_its_scopes(register):
    other = RegisterFactory()
    writable = RegisterFactory()
    _client, key = api_client({register: READ, writable: WRITE})

    response = KeyClient(key).get(REGISTERS)

    assert response.status_code == 200
    listed = {row["slug"]: row["writable"] for row in response.json()}
    assert listed == {register.slug: False, writable.slug: True}
    assert other.slug not in response.content.decode()


def test_the_key_is_stored_hashed_and_shown_only_once(register):
    client, key = api_client({register: READ})
    stored = APIClient.objects.get(pk=client.pk)
    assert key not in (stored.id, stored.hashed_key)
    assert key.split(".")[1] not in stored.hashed_key


@pytest.mark.parametrize(
    "authorization",
    ["", "Api-Key", "Api-Key nonsense", "Api-Key abc.def", "Bearer x", "Api-Key a b", "Api-Key \u00e4\u00e4"],
)
def test_no_key_or_a_wrong_key_is_401_as_problem_details(register, authorization):
    api_client({register: READ})
    with translation.override("en"):
        response = KeyClient(None).get(REGISTERS, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Api-Key"
    body = response.json()
    assert body["status"] == 401
    assert body["title"]
    assert body["detail"]


def test_a_revoked_key_stops_at_once_and_its_scopes_end(register):
    client, key = api_client({register: WRITE})
    assert KeyClient(key).get(REGISTERS).status_code == 200

    api_client_revoke(actor=main_user(), client=client, reason="Sopimus päättyi")

    assert KeyClient(key).get(REGISTERS).status_code == 401
    assert not Membership.objects.active().filter(user=client.user).exists()


def test_an_expired_key_is_refused(register):
    client, key = api_client({register: READ})
    APIClient.objects.filter(pk=client.pk).update(expiry_date=timezone.now() - datetime.timedelta(seconds=1))
    response = KeyClient(key).get(REGISTERS, HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 401
    with translation.override("fi"):
        assert response.json()["detail"] == translation.gettext("The API key has expired.")


def test_calls_from_an_address_outside_the_allowed_networks_are_refused(register):
    _client, key = api_client({register: READ}, allowed_networks="192.0.2.0/24\n2001:db8::1")
    assert KeyClient(key).get(REGISTERS, REMOTE_ADDR="192.0.2.17").status_code == 200
    assert KeyClient(key).get(REGISTERS, REMOTE_ADDR="2001:db8::1").status_code == 200
    assert KeyClient(key).get(REGISTERS, REMOTE_ADDR="198.51.100.1").status_code == 401


def test_a_client_over_its_rate_gets_429_with_retry_after(register, private_cache):
    _client, key = api_client({register: READ}, rate_per_minute=3)
    caller = KeyClient(key)
    statuses = [caller.get(REGISTERS).status_code for _n in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = caller.get(REGISTERS)
    assert refused["Content-Type"] == "application/problem+json"
    assert 0 < int(refused["Retry-After"]) <= 60


def test_a_session_of_a_signed_in_person_is_not_an_api_credential(client, register):
    person = UserFactory()
    grant(person, register, Role.OWNER)
    client.force_login(person)
    assert client.get(REGISTERS).status_code == 401


def test_me_tells_the_client_its_scopes(register):
    _client, key = api_client({register: WRITE})
    assert KeyClient(key).get("/api/v1/me/").json()["scopes"] == {register.slug: "api_write"}


def test_the_openapi_document_and_docs_are_served_without_a_key():
    schema = KeyClient(None).get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = KeyClient(None).get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
