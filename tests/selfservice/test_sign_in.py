"""Strong identification of a data subject: what a sign-in accepts, refuses, keeps and forgets."""

import time

import pytest
from auditlog.models import LogEntry
from django.db import connection

from selfservice.models import Assurance, SubjectIdentity
from selfservice.session import SESSION_KEY

from ..factories import DEFAULT_PASSWORD, PersonCustomerFactory, RegisterFactory, UserFactory
from ..url_walk import CONVERTER, project_routes
from .provider import OTHER_KEY

IDENTITY_CODE = "131052-308T"


@pytest.mark.parametrize(
    ("claim", "value", "assurance"),
    [
        ("loa", "substantial", Assurance.SUBSTANTIAL),
        ("loa", "high", Assurance.HIGH),
        ("acr", "http://eidas.europa.eu/LoA/substantial", Assurance.SUBSTANTIAL),
        ("acr", "http://ftn.ficora.fi/2017/loa3", Assurance.HIGH),
    ],
)
def test_a_strong_sign_in_opens_my_data_and_records_the_level(provider, person_client, claim, value, assurance):
    response = provider.sign_in(person_client, **{"loa": None, claim: value})
    assert response.status_code == 302
    assert response["Location"] == "/my-data/"
    identity = SubjectIdentity.objects.get()
    assert identity.assurance == assurance
    page = person_client.get("/my-data/")
    assert page.status_code == 200
    assert str(Assurance(assurance).label) in page.content.decode()
    assert "Maija Meikäläinen" in page.content.decode()


@pytest.mark.parametrize(
    "changes", [{"loa": "low"}, {"loa": None}, {"loa": None, "acr": "http://ftn.ficora.fi/2017/loa1"}]
)
def test_a_weak_sign_in_is_refused_and_keeps_nothing(provider, person_client, changes):
    response = provider.sign_in(person_client, **changes)
    assert response.status_code == 403
    assert "strong electronic identification" in response.content.decode()
    assert not SubjectIdentity.objects.exists()
    assert person_client.get("/my-data/").context["configured"] is True  # the sign-in page again


def test_an_identity_code_sent_by_the_provider_is_never_stored(provider, person_client):
    response = provider.sign_in(
        person_client,
        hetu=IDENTITY_CODE,
        national_identification_number=IDENTITY_CODE,
        nin=IDENTITY_CODE,
        given_name=f"Maija {IDENTITY_CODE}",
    )
    assert response.status_code == 302
    identity = SubjectIdentity.objects.get()
    assert identity.first_name == ""  # a name carrying the code is dropped with it
    person_client.get("/my-data/")
    _assert_nowhere(IDENTITY_CODE)
    assert IDENTITY_CODE not in str(dict(person_client.session))


def test_a_provider_using_the_identity_code_as_subject_id_gets_a_keyed_hash(provider, person_client):
    provider.sign_in(person_client, sub=IDENTITY_CODE)
    identity = SubjectIdentity.objects.get()
    assert identity.subject.startswith("hmac-sha256:")
    assert IDENTITY_CODE not in identity.subject
    # The same person again is the same identity.
    provider.sign_in(person_client, sub=IDENTITY_CODE)
    assert SubjectIdentity.objects.count() == 1
    _assert_nowhere(IDENTITY_CODE)


def _assert_nowhere(code: str) -> None:
    """Neither form of the code in any text column of any table (the audit trail included)."""
    compact = code.replace("-", "")
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            columns = [
                c.name
                for c in connection.introspection.get_table_description(cursor, table)
                if c.type_code in _text_types()
            ]
            for column in columns:
                text = f'CAST("{column}" AS TEXT)'
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE {text} LIKE %s OR {text} LIKE %s',  # noqa: S608
                    [f"%{code}%", f"%{compact}%"],
                )
                assert cursor.fetchone()[0] == 0, f"{table}.{column} holds the identity code"


def _text_types():
    if connection.vendor == "postgresql":
        return {25, 1043, 114, 3802}  # text, varchar, json, jsonb
    return {"text", "varchar", "TEXT", "VARCHAR", "json"} | {f"varchar({n})" for n in range(1, 1001)}


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, id="expired"),
        pytest.param({"aud": "another-client"}, id="another-audience"),
        pytest.param({"iss": "https://impostor.example"}, id="another-issuer"),
        pytest.param({"nonce": "not-the-nonce"}, id="another-nonce"),
    ],
)
def test_a_token_failing_its_checks_is_refused(provider, person_client, tamper):
    response = provider.sign_in(person_client, **tamper)
    assert response.status_code == 400
    assert "could not be confirmed" in response.content.decode()
    assert not SubjectIdentity.objects.exists()
    assert SESSION_KEY not in person_client.session


def test_a_token_signed_by_another_key_is_refused(provider, person_client):
    provider.signing_key = OTHER_KEY
    response = provider.sign_in(person_client)
    assert response.status_code == 400
    assert not SubjectIdentity.objects.exists()


def test_a_callback_with_another_browsers_state_is_refused(provider, person_client):
    person_client.post("/my-data/sign-in/", {"next": "/my-data/"})
    response = person_client.get("/my-data/callback/", {"code": "c", "state": "forged"})
    assert response.status_code == 400
    assert provider.token_requests == []


def test_the_providers_error_answer_and_its_outage_are_told_plainly(provider, person_client):
    person_client.post("/my-data/sign-in/", {"next": "/my-data/"})
    refused = person_client.get("/my-data/callback/", {"error": "access_denied", "state": "x"})
    assert refused.status_code == 400
    provider.down = True
    assert provider.sign_in(person_client).status_code == 400


def test_an_unreachable_provider_gives_a_page_not_an_error(settings, person_client):
    settings.SUBJECT_OIDC_ISSUER = "http://127.0.0.1:9"
    settings.SUBJECT_OIDC_CLIENT_ID = "rekisteri-test"
    response = person_client.post("/my-data/sign-in/", {"next": "/my-data/"})
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


def test_without_configuration_the_pages_point_to_the_public_form(person_client, settings):
    settings.SUBJECT_OIDC_ISSUER = ""
    page = person_client.get("/my-data/")
    assert page.status_code == 200
    assert "not in use" in page.content.decode()
    assert "/privacy/request/" in page.content.decode()
    assert person_client.post("/my-data/sign-in/").status_code == 404
    assert person_client.get("/my-data/callback/", {"code": "c", "state": "s"}).status_code == 404


def test_the_session_ends_after_15_idle_minutes(signed_in, settings):
    session = signed_in.session
    data = session[SESSION_KEY]
    data["last_seen"] = int(time.time()) - settings.SUBJECT_SESSION_IDLE_SECONDS - 1
    session[SESSION_KEY] = data
    session.save()
    page = signed_in.get("/my-data/")
    assert "selfservice/sign_in.html" in [t.name for t in page.templates]
    assert SESSION_KEY not in signed_in.session


def test_the_sign_in_is_never_remembered(provider, person_client):
    provider.sign_in(person_client)
    cookie = person_client.cookies[next(iter(person_client.cookies))]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def _staff_urls():
    """Every route behind the staff sign-in, with values of the right shape in its parameters."""
    values = {"uuid": "8c0c1f8e-7d55-4b5e-9f3c-0d6a5b3c2a10", "int": "1", "slug": "some-register", "str": "x"}
    for route, _name, view in project_routes():
        if route.startswith(("admin/", "api/", "gdpr-api/")) or not getattr(view, "login_required", True):
            continue
        yield "/" + CONVERTER.sub(lambda m: values.get(m.group("kind") or "str", "x"), route)


def test_a_signed_in_person_opens_no_staff_page(signed_in):
    urls = list(_staff_urls())
    assert len(urls) >= 150
    for url in urls:
        response = signed_in.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    assert SESSION_KEY in signed_in.session


def test_a_staff_sign_in_in_the_same_browser_ends_the_persons_session(signed_in):
    user = UserFactory()
    signed_in.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    assert SESSION_KEY not in signed_in.session


def test_a_person_signing_in_ends_a_staff_session_in_the_same_browser(db, provider, client):
    user = UserFactory()
    client.force_login(user)
    provider.sign_in(client)
    assert "_auth_user_id" not in client.session
    assert SESSION_KEY in client.session


def test_sign_out_ends_the_providers_session_too(signed_in, provider):
    id_token = signed_in.session[SESSION_KEY]["id_token"]
    response = signed_in.post("/my-data/sign-out/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{provider.issuer}/logout?")
    assert f"id_token_hint={id_token}" in location
    assert "post_logout_redirect_uri=" in location
    assert SESSION_KEY not in signed_in.session
    assert "selfservice/sign_in.html" in [t.name for t in signed_in.get("/my-data/").templates]


def test_the_sign_in_and_its_links_are_audited_without_a_copy_of_the_name(provider, person_client):
    PersonCustomerFactory(first_name="Maija", last_name="Meikäläinen", email="maija.meikalainen@example.fi")
    provider.sign_in(person_client)
    identity = SubjectIdentity.objects.get()
    link = identity.links.get()
    entries = [*LogEntry.objects.get_for_object(identity), *LogEntry.objects.get_for_object(link)]
    assert len(entries) == 2
    for entry in entries:
        text = f"{entry.object_repr} {entry.changes}"
        assert "Meikäläinen" not in text
        assert "maija.meikalainen" not in text


def test_only_own_addresses_are_followed_after_the_sign_in(provider, person_client):
    response = provider.sign_in(person_client, next_url="https://evil.example/steal")
    assert response["Location"] == "/my-data/"


def test_the_public_request_pages_offer_strong_identification_when_it_is_in_use(provider, person_client, settings):
    register = RegisterFactory()
    for url in ("/privacy/request/", f"/privacy/request/{register.organisation.code}/"):
        assert 'href="/my-data/"' in person_client.get(url, follow=True).content.decode(), url
    settings.SUBJECT_OIDC_ISSUER = ""
    assert 'href="/my-data/"' not in person_client.get("/privacy/request/", follow=True).content.decode()


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "not an address"},
        {"email": "x" * 300 + "@example.fi"},
        {"given_name": "Maija\u202e"},
        {"family_name": "M" * 500},
        {"given_name": 42, "email_verified": "yes"},
    ],
)
def test_attributes_unfit_to_keep_are_dropped_not_an_error(provider, person_client, changes):
    response = provider.sign_in(person_client, **changes)
    assert response.status_code == 302
    identity = SubjectIdentity.objects.get()
    kept = {"given_name": identity.first_name, "family_name": identity.last_name, "email": identity.email}
    for name in changes:
        assert kept.get(name) in (None, "")
    assert identity.email_verified is (changes.get("email_verified", True) is True and bool(identity.email))
