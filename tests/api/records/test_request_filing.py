"""Filing a data-subject request over the API is filing it through the public form: the same rows, letter,
deadlines and refusals (compare tests/privacy/requests/test_views_public.py)."""

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from privacy.requests.models import Correspondence, DataSubjectRequest

from ...factories import RegisterFactory
from ..factories import READ, WRITE, KeyClient, api_client
from .world import IDENTITY_CODE

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State


@pytest.fixture
def register():
    return RegisterFactory()


@pytest.fixture
def http(register):
    _client, key = api_client({register: WRITE})
    return KeyClient(key, HTTP_ACCEPT_LANGUAGE="en")


def url(register):
    return f"/api/v1/registers/{register.slug}/data-subject-requests/"


def body(**overrides):
    data = {
        "kind": "access",
        "requester_name": "Anna Asiakas",
        "requester_email": f"anna.{uuid.uuid4().hex[:10]}@example.fi",
        "language": "fi",
        "delivery": "electronic",
    }
    data.update(overrides)
    return data


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


# What a filed request is, compared between the two ways in. Codes, numbers, addresses and times differ by nature.
COMPARED = (
    "kind",
    "channel",
    "state",
    "all_registers",
    "requester_name",
    "requester_phone",
    "requester_address",
    "acting_for",
    "details",
    "correction_what",
    "correction_why",
    "language",
    "delivery",
    "email_confirmed_at",
    "received_at",
    "service_due_at",
    "legal_due_at",
    "created_by_id",
)


def filed(request: DataSubjectRequest) -> dict:
    return {
        **{name: getattr(request, name) for name in COMPARED},
        "registers": [r.slug for r in request.registers.all()],
        "events": [(e.action, e.from_state, e.to_state, e.actor_id, e.payload) for e in request.events.order_by("pk")],
        "letters": sorted(c.kind for c in Correspondence.objects.filter(request=request)),
        "has_dedupe_key": bool(request.dedupe_key),
    }


def test_a_request_filed_over_the_api_is_what_the_public_form_files(
    register, http, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    data = body(details="Pyydän kaikki tietoni.", requester_phone="040 123 4567")
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(url(register), data)
    assert response.status_code == 202, response.content
    by_api = DataSubjectRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        form = reverse("privacy:request-form", kwargs={"organisation": register.organisation.code})
        Client(REMOTE_ADDR="10.9.8.7").post(
            form, {**data, "requester_email": f"anna.{uuid.uuid4().hex[:10]}@example.fi", "registers": [register.slug]}
        )
    by_form = DataSubjectRequest.objects.exclude(pk=by_api.pk).get()

    assert filed(by_api) == filed(by_form)
    assert (by_api.state, by_api.channel, by_api.received_at) == (State.RECEIVED, "web", None)
    assert re.fullmatch(r"DSR-\d{4}-\d{6}", by_api.reference)
    # The answer names nothing: the links reach the requester only by e-mail.
    assert by_api.reference not in response.content.decode()
    assert str(by_api.code) not in response.content.decode()
    assert response.json()["detail"]
    to_api_requester = [m for m in mailoutbox if m.to == [data["requester_email"]]]
    assert len(to_api_requester) == 1
    assert by_api.reference in to_api_requester[0].subject
    confirm, status = links(to_api_requester[0].body)
    assert "/privacy/request/confirm/" in confirm
    assert "/privacy/request/status/" in status


def test_the_confirmation_link_starts_the_deadlines_as_for_the_form(
    register, http, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        http.post(url(register), body())
    confirm = "/" + links(mailoutbox[0].body)[0].split("/", 3)[3]
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(confirm)
    request = DataSubjectRequest.objects.get()
    assert request.state == State.VERIFYING
    assert request.received_at is not None
    assert request.legal_due_at is not None


def test_the_same_request_sent_twice_is_one_request_and_both_answers_are_alike(register, http):
    data = body()
    first = http.post(url(register), data)
    second = http.post(url(register), data)
    assert DataSubjectRequest.objects.count() == 1
    assert (first.status_code, first.json()) == (second.status_code, second.json())


def test_too_many_requests_for_one_address_are_answered_alike_and_nothing_is_stored(register, http, settings):
    settings.PRIVACY_RATE_LIMITS = {"ip": (1000, 3600), "email": (1, 3600)}
    email = f"anna.{uuid.uuid4().hex[:10]}@example.fi"
    answers = [http.post(url(register), body(requester_email=email, details=f"Pyyntö {n}")) for n in range(3)]
    assert DataSubjectRequest.objects.count() == 1
    assert len({(a.status_code, a.content) for a in answers}) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"requester_name": ""}, "requester_name"),
        ({"requester_email": "not-an-address"}, "requester_email"),
        ({"language": "de"}, "language"),
        ({"delivery": "pigeon"}, "delivery"),
        ({"delivery": "in_person"}, "delivery"),
        ({"details": f"Henkilötunnukseni on {IDENTITY_CODE}"}, "details"),
        ({"requester_name": f"Anna {IDENTITY_CODE}"}, "requester_name"),
        ({"kind": "rectification"}, "correction_what"),
        ({"delivery": "post"}, "requester_address"),
        ({"acting_for": "Aino Asiakas"}, "mandate"),
        ({"details": "x" * 5001}, "details"),
        ({"requester_name": {"first": "Anna"}}, "requester_name"),
        ({"requester_name": ["Anna"]}, "requester_name"),
        ({"details": "nul\x00byte"}, "details"),
    ],
)
def test_the_public_forms_rules_refuse_a_request_with_400(register, http, overrides, field):
    response = http.post(url(register), body(**overrides))
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize("raw", ["[]", '"x"', "null", "{", "1", '{"kind": "access"}'])
def test_a_body_that_is_no_request_is_400(register, http, raw):
    response = http.generic("POST", url(register), raw, content_type="application/json")
    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()


def test_a_register_made_of_parts_takes_no_request_of_its_own(register, http):
    """The public form names only registers without parts; the API follows it."""
    RegisterFactory(organisation=register.organisation, parent=register)
    response = http.post(url(register), body())
    assert response.status_code == 400
    assert "registers" in response.json()["errors"]


def test_a_read_scope_files_nothing(register):
    _client, key = api_client({register: READ})
    response = KeyClient(key).post(url(register), body())
    assert response.status_code == 403
    assert not DataSubjectRequest.objects.exists()
