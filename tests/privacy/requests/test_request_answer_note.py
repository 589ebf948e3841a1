"""The register owner's note to the answer reaches the person: letter (HTML, PDF), JSON, e-mail (issue 11, C10)."""

import hashlib
import json

import pytest

from privacy.requests import services, tasks
from privacy.requests.models import DataSubjectRequest, RequestEvent

from ...factories import PersonCustomerFactory
from .. import steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
NOTE = "Laskutustiedot säilytetään kirjanpitolain vuoksi kuusi vuotta.\nKysy lisää: tietosuoja@example.fi"


def read(field) -> bytes:
    with field.open("rb") as stored:
        return stored.read()


def test_the_note_is_in_the_letter_the_json_the_pdf_and_the_email(
    register_a, handler_a, owner_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    person = PersonCustomerFactory(register=register_a)
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.in_review(register_a, handler_a, records=[person])
    reviewed = request.packages.get()
    reviewed_content = json.loads(read(reviewed.json))
    reviewed_pdf = reviewed.file_sha256["pdf"]
    reviewed_sha, reviewed_files = reviewed.sha256, [reviewed.html.name, reviewed.json.name, reviewed.pdf.name]
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_approve(request=request, actor=owner_a, decision_text=NOTE)
    package = request.packages.get()
    document, html, pdf = read(package.json), read(package.html), read(package.pdf)

    # The note, and otherwise exactly what the approver reviewed.
    assert json.loads(document) == {**reviewed_content, "note": NOTE}
    assert "Laskutustiedot säilytetään" in html.decode()
    # The hashes are those of the files that are released.
    assert package.sha256 == hashlib.sha256(document).hexdigest() != reviewed_sha
    assert package.file_sha256 == {
        "html": hashlib.sha256(html).hexdigest(),
        "json": hashlib.sha256(document).hexdigest(),
        "pdf": hashlib.sha256(pdf).hexdigest(),
    }
    # The PDF is rendered again, from the letter with the note (the renderer checks the letter's hash first).
    assert pdf.startswith(b"%PDF-")
    assert package.file_sha256["pdf"] != reviewed_pdf
    event = request.events.filter(action=RequestEvent.Action.PACKAGE_BUILT).last()
    assert event.payload["replaces"] == reviewed_sha
    assert event.payload["sha256"] == package.sha256
    assert event.actor == owner_a
    assert not any(package.json.storage.exists(name) for name in reviewed_files)

    steps.send_letters()
    answer = next(m for m in mailoutbox if "/privacy/request/answer/" in m.body)
    assert "Laskutustiedot säilytetään" in answer.body
    assert "tietosuoja@example.fi" in answer.alternatives[0][0]


def test_without_a_note_the_reviewed_package_is_released_unchanged(
    register_a, handler_a, owner_a, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])
    reviewed = request.packages.get().sha256
    request = services.request_approve(request=request, actor=owner_a)
    package = request.packages.get()
    assert package.sha256 == reviewed
    assert json.loads(read(package.json))["note"] == ""
    assert request.state == DataSubjectRequest.State.RESPONDED


def test_the_pdf_sweeper_renders_the_letter_with_the_note_when_the_broker_was_down(
    register_a, handler_a, owner_a, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.package_pdf_render_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_approve(request=request, actor=owner_a, decision_text=NOTE)
    package = request.packages.get()
    assert not package.pdf
    assert tasks.package_pdf_sweep(older_than_seconds=0) == 1
    package.refresh_from_db()
    assert package.file_sha256["pdf"] == hashlib.sha256(read(package.pdf)).hexdigest()
