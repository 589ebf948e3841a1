"""The main user's integration-client screens: who may use them, the key shown once, scopes, revoke, bad input."""

import datetime
import re

import pytest
from django.utils import timezone, translation

from api.models import APIClient
from api.services import api_client_scopes
from registers.models import Membership, Role

from ..factories import RegisterFactory, UserFactory
from .factories import KEEPER, READ, WRITE, KeyClient, api_client

pytestmark = pytest.mark.django_db

LIST = "/api-clients/"
NEW = "/api-clients/new/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def signed_in(client, main_user):
    client.force_login(main_user)
    return client


def create_data(register_a, register_b, owner, overrides=None):
    data = {
        "name": "Tapahtumakalenteri",
        "description": "Event sign-ups",
        "owner": owner.pk,
        "expires_on": (timezone.localdate() + datetime.timedelta(days=100)).isoformat(),
        "allowed_networks": "",
        "rate_per_minute": "120",
        f"scope_{register_a.slug}": WRITE,
        f"scope_{register_b.slug}": "",
    }
    data.update(overrides or {})
    return data


def key_from(response) -> str:
    match = re.search(r'id="api-key"[^>]*value="([^"]+)"', response.content.decode())
    assert match, "the result page shows the key"
    return match.group(1)


@pytest.mark.parametrize("path", [LIST, NEW])
def test_people_who_are_not_main_users_are_refused(client, owner_a, path):
    client.force_login(owner_a)
    assert client.get(path).status_code == 403
    assert client.post(NEW, {}).status_code == 403
    assert not APIClient.objects.exists()


def test_a_client_page_of_another_or_no_client_is_refused_to_non_main_users(client, owner_a, register_a):
    made, _key = api_client({register_a: READ})
    client.force_login(owner_a)
    for suffix in ("", "scopes/", "revoke/"):
        response = (
            client.post(f"{LIST}{made.code}/{suffix}", {"reason": "x"}) if suffix else client.get(f"{LIST}{made.code}/")
        )
        assert response.status_code == 403
    assert not APIClient.objects.get(pk=made.pk).revoked


def test_create_shows_the_key_once_and_the_key_works_with_its_scopes(signed_in, main_user, register_a, register_b):
    owner = UserFactory(username="integrator", first_name="Iida", last_name="Integraattori")
    response = signed_in.post(NEW, create_data(register_a, register_b, owner), **EN)

    assert response.status_code == 200
    key = key_from(response)
    assert "no-store" in response["Cache-Control"]
    client = APIClient.objects.get()
    assert client.owner == owner
    assert client.rate_per_minute == 120
    assert key not in (client.hashed_key, client.id)
    assert {m.register: m.role for m in api_client_scopes(client).values()} == {register_a: WRITE}
    me = KeyClient(key).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["scopes"] == {register_a.slug: WRITE}
    # Never again: neither the list nor the client's page shows it.
    for path in (LIST, f"{LIST}{client.code}/"):
        page = signed_in.get(path, **EN)
        assert page.status_code == 200
        assert key not in page.content.decode()
        assert "Tapahtumakalenteri" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"owner": "999999"}, "owner"),
        ({"owner": "not a number"}, "owner"),
        ({"expires_on": "2001-01-01"}, "expires_on"),
        ({"expires_on": "9999-12-31"}, "expires_on"),
        ({"expires_on": "31.2.2026"}, "expires_on"),
        ({"allowed_networks": "10.0.0.0/8\nnot-a-network"}, "allowed_networks"),
        ({"allowed_networks": "\x00"}, None),
        ({"rate_per_minute": "0"}, "rate_per_minute"),
        ({"rate_per_minute": "-5"}, "rate_per_minute"),
        ({"rate_per_minute": "lots"}, "rate_per_minute"),
        ({"scope_register-a": "owner"}, "scope_register-a"),
        ({"scope_register-a": ""}, "__all__"),
    ],
)
def test_bad_input_is_a_translated_form_error_never_a_client_or_a_500(
    signed_in, register_a, register_b, overrides, field
):
    owner = UserFactory(username="integrator")
    with translation.override("fi"):
        response = signed_in.post(NEW, create_data(register_a, register_b, owner, overrides))
    assert response.status_code in (200, 400)
    assert not APIClient.objects.exists()
    if field:
        assert response.context["form"].errors[field]
    assert 'id="api-key"' not in response.content.decode()


def test_a_machine_user_cannot_be_made_responsible_for_a_client(signed_in, register_a, register_b):
    other, _key = api_client({register_a: READ}, name="Vanha")
    response = signed_in.post(NEW, create_data(register_a, register_b, other.user))
    assert response.context["form"].errors["owner"]
    assert APIClient.objects.count() == 1


def test_changing_scopes_ends_the_old_one_and_grants_the_new(signed_in, register_a, register_b):
    client, key = api_client({register_a: WRITE})
    response = signed_in.post(
        f"{LIST}{client.code}/scopes/",
        {f"scope_{register_a.slug}": READ, f"scope_{register_b.slug}": WRITE, "reason": "Ticket 12"},
    )
    assert response.status_code == 302
    assert {m.register: m.role for m in api_client_scopes(client).values()} == {register_a: READ, register_b: WRITE}
    ended = Membership.objects.get(user=client.user, register=register_a, role=WRITE)
    assert ended.ended_at is not None
    assert ended.end_reason == "Ticket 12"
    assert KeyClient(key).get("/api/v1/me/").json()["scopes"] == {register_a.slug: READ, register_b.slug: WRITE}


def test_the_keepers_scope_is_given_on_the_page_and_opens_the_registers_requests(signed_in, register_a, register_b):
    client, key = api_client({register_a: WRITE})
    page = signed_in.get(f"{LIST}{client.code}/").content.decode()
    assert f'value="{KEEPER}"' in page
    response = signed_in.post(
        f"{LIST}{client.code}/scopes/", {f"scope_{register_a.slug}": KEEPER, "reason": "Asianhallinta lukee pyynnöt"}
    )
    assert response.status_code == 302
    assert KeyClient(key).get("/api/v1/me/").json()["scopes"] == {register_a.slug: KEEPER}
    assert KeyClient(key).get(f"/api/v1/registers/{register_a.slug}/data-subject-requests/").status_code == 200
    assert KeyClient(key).get(f"/api/v1/registers/{register_b.slug}/data-subject-requests/").status_code == 404


def test_scopes_need_a_reason_and_at_least_one_register(signed_in, register_a, register_b):
    client, _key = api_client({register_a: WRITE})
    no_reason = signed_in.post(f"{LIST}{client.code}/scopes/", {f"scope_{register_a.slug}": READ, "reason": ""})
    no_scope = signed_in.post(f"{LIST}{client.code}/scopes/", {"reason": "drop all"})
    assert no_reason.status_code == 400
    assert no_scope.status_code == 400
    assert {m.role for m in api_client_scopes(client).values()} == {WRITE}


def test_revoke_needs_a_reason_then_the_key_stops_and_every_scope_ends(signed_in, register_a, register_b):
    client, key = api_client({register_a: WRITE, register_b: READ})
    refused = signed_in.post(f"{LIST}{client.code}/revoke/", {"reason": " "})
    assert refused.status_code == 400
    assert KeyClient(key).get("/api/v1/me/").status_code == 200

    response = signed_in.post(f"{LIST}{client.code}/revoke/", {"reason": "Contract ended"})

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.revoked
    assert client.revoke_reason == "Contract ended"
    assert api_client_scopes(client) == {}
    assert KeyClient(key).get("/api/v1/me/").status_code == 401
    page = signed_in.get(f"{LIST}{client.code}/", **EN)
    assert "Contract ended" in page.content.decode()


def test_unknown_client_code_is_404_for_a_main_user(signed_in):
    assert signed_in.get(f"{LIST}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_list_shows_scopes_expiry_last_use_and_revocation(signed_in, register_a, register_b):
    _active, _ = api_client({register_a: READ}, name="Kalenteri")
    revoked, _ = api_client({register_b: WRITE}, name="Vanha")
    signed_in.post(f"{LIST}{revoked.code}/revoke/", {"reason": "old"})
    with translation.override("en"):
        page = signed_in.get(LIST, **EN).content.decode()
        assert f"{register_a.name}: integration: read<" in page
    assert "Kalenteri" in page
    assert "Vanha" in page
    assert "revoked" in page


def test_the_user_list_shows_people_only_and_links_to_the_clients(signed_in, main_user, register_a):
    person = UserFactory(username="person_x")
    client, _ = api_client({register_a: READ}, name="Kalenteri")
    page = signed_in.get("/registers/users/", **EN).content.decode()
    assert person.username in page
    assert client.user.username not in page
    assert LIST in page


def test_the_main_users_home_links_to_the_clients(signed_in):
    assert f'href="{LIST}"' in signed_in.get("/", **EN).content.decode()


def test_the_pages_carry_no_inline_script_or_style(signed_in, register_a):
    client, _ = api_client({register_a: READ})
    for path in (LIST, NEW, f"{LIST}{client.code}/"):
        html = signed_in.get(path).content.decode()
        assert "<script>" not in html
        assert "style=" not in html
        assert "<style" not in html


def test_a_register_added_later_is_offered_as_a_scope(signed_in):
    RegisterFactory(slug="late-register")
    assert "scope_late-register" in signed_in.get(NEW).content.decode()


def test_machine_scopes_are_machine_roles(register_a):
    client, _ = api_client({register_a: READ})
    assert set(Membership.objects.filter(user=client.user).values_list("role", flat=True)) <= {
        Role.API_READ,
        Role.API_WRITE,
    }
