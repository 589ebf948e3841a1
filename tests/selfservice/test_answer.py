"""An identified person's access answer: on the "my data" pages once approved, after a fresh sign-in, through a
link that expires, with an access-log entry for each download."""

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from auditlog.models import LogEntry
from django.core import signing

from privacy.requests import services
from privacy.requests.models import DataSubjectRequest, PackageDownload
from privacy.requests.workflow import request_transition
from registers.models import Role
from selfservice.session import SESSION_KEY

from ..conftest import grant
from ..factories import PersonCustomerFactory, RegisterFactory, UserFactory
from ..privacy.steps import checked


@pytest.fixture
def answered(provider, person_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    register = RegisterFactory()
    customer = PersonCustomerFactory(
        register=register, first_name="Maija", last_name="Meikäläinen", email="maija.meikalainen@example.fi"
    )
    provider.sign_in(person_client)
    person_client.post(
        f"/my-data/requests/new/{register.organisation.code}/",
        {"kind": "access", "registers": [register.slug], "language": "fi", "delivery": "electronic"},
    )
    dsr = DataSubjectRequest.objects.get()
    handler, owner = UserFactory(), UserFactory()
    grant(handler, register, Role.HANDLER)
    grant(owner, register, Role.OWNER)
    request_transition(request=dsr, to=DataSubjectRequest.State.IN_PROGRESS, actor=handler)
    checked(dsr, handler, register, [customer])
    services.request_prepare(request=dsr, actor=handler)
    services.request_approve(request=dsr, actor=owner)
    return dsr


def open_links(person_client, dsr):
    response = person_client.post(f"/my-data/requests/{dsr.code}/answer/")
    assert response.status_code == 200, response
    return response.context["token"]


def test_the_answer_downloads_after_a_fresh_sign_in_and_is_logged(answered, person_client):
    page = person_client.get(f"/my-data/requests/{answered.code}/")
    assert page.context["answer"] is not None
    token = open_links(person_client, answered)
    response = person_client.get(f"/my-data/answers/{token}/json/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    content = json.loads(b"".join(response.streaming_content))
    assert content["reference"] == answered.reference
    download = PackageDownload.objects.get()
    assert download.by_requester
    assert download.fmt == "json"
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(download.package_id)).get()
    assert entry.additional_data["purpose"] == "access_request_answer"
    assert token not in entry.additional_data.get("path", "")  # the link's secret is not in the trail


def test_an_older_sign_in_is_sent_to_the_provider_for_a_fresh_one(answered, person_client, provider):
    session = person_client.session
    data = session[SESSION_KEY]
    data["authenticated_at"] = int(time.time()) - 3600
    session[SESSION_KEY] = data
    session.save()
    response = person_client.post(f"/my-data/requests/{answered.code}/answer/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{provider.issuer}/authorize?")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["prompt"] == ["login"]
    assert query["max_age"] == ["0"]
    assert not PackageDownload.objects.exists()


def test_an_expired_link_opens_nothing(answered, person_client, monkeypatch):
    token = open_links(person_client, answered)
    later = time.time() + 11 * 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert person_client.get(f"/my-data/answers/{token}/json/").status_code == 410
    assert not PackageDownload.objects.exists()


def test_a_link_is_only_for_the_person_it_was_made_for(answered, person_client, provider):
    token = open_links(person_client, answered)
    provider.sign_in(person_client, sub="another-person", email="toinen@example.fi")
    assert person_client.get(f"/my-data/answers/{token}/json/").status_code == 410
    assert person_client.get(f"/my-data/answers/{token}x/json/").status_code == 410
    assert not PackageDownload.objects.exists()


def test_an_unanswered_request_has_no_answer_to_open(provider, person_client):
    register = RegisterFactory()
    provider.sign_in(person_client)
    person_client.post(
        f"/my-data/requests/new/{register.organisation.code}/",
        {"kind": "access", "registers": [register.slug], "language": "fi", "delivery": "electronic"},
    )
    dsr = DataSubjectRequest.objects.get()
    assert person_client.get(f"/my-data/requests/{dsr.code}/").context["answer"] is None
    assert person_client.post(f"/my-data/requests/{dsr.code}/answer/").status_code == 403
