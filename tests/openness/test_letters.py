"""The refusal path to its letters (14(3) §, 33 §), in each language of the request."""

import pytest

from openness import letters, services
from openness.models import DocumentRequest
from registers.models import Role

from ..conftest import grant
from ..factories import RegisterFactory, UserFactory

APPEAL = {"fi": "hallinto-oikeuteen", "sv": "förvaltningsdomstolen", "en": "administrative court"}
QUESTION = {"fi": "kirjallista päätöstä", "sv": "skriftligt beslut", "en": "written decision"}


@pytest.fixture
def people(db):
    register = RegisterFactory()
    handler, owner = UserFactory(), UserFactory(first_name="Päivi", last_name="Päättäjä")
    grant(handler, register, Role.HANDLER)
    grant(owner, register, Role.OWNER)
    return register, handler, owner


def refused(register, handler, language):
    request = services.document_request_submit(
        organisation=register.organisation,
        registers=[],
        data={"request_text": "Tarjousasiakirjat 2026", "language": language, "requester_name": "Toimittaja"},
    )
    request = services.document_request_take_up(actor=handler, request=request)
    return services.document_request_refuse(actor=handler, request=request, reason="Liikesalaisuus (24 § 1 mom. 20 k)")


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_refusal_and_the_decision_are_written_in_the_requesters_language(people, language, client):
    register, handler, owner = people
    request = refused(register, handler, language)
    assert letters.letter_kinds(request) == ["refusal"]
    refusal = letters.letter_html(request, "refusal")
    assert f'lang="{language}"' in refusal
    assert QUESTION[language] in refusal
    assert "Liikesalaisuus" in refusal
    request = services.document_request_choice_record(actor=handler, request=request, wanted="yes")
    request = services.document_request_decide(
        actor=owner, request=request, outcome=DocumentRequest.Outcome.PARTLY_GRANTED, text="Osittain salassa"
    )
    decision = letters.letter_html(request, "decision")
    assert APPEAL[language] in decision
    assert "808/2019" in decision
    assert "Päivi Päättäjä" in decision
    assert "Osittain salassa" in decision
    client.force_login(handler)
    response = client.get(f"/openness/{request.code}/letter/decision.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_letter_that_does_not_exist_is_404(people, client):
    register, handler, _owner = people
    request = services.document_request_submit(
        organisation=register.organisation, registers=[], data={"request_text": "x"}
    )
    client.force_login(handler)
    assert client.get(f"/openness/{request.code}/letter/decision.pdf").status_code == 404
    assert client.get(f"/openness/{request.code}/letter/refusal.pdf").status_code == 404


@pytest.fixture
def eager():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_the_requester_is_told_of_the_extension_the_refusal_and_the_decision(
    people, eager, mailoutbox, django_capture_on_commit_callbacks
):
    register, handler, owner = people
    with django_capture_on_commit_callbacks(execute=True):
        request = services.document_request_submit(
            organisation=register.organisation,
            registers=[],
            data={"request_text": "Pöytäkirjat", "language": "sv", "requester_email": "redaktion@example.se"},
        )
        request = services.document_request_extend(actor=handler, request=request, reason="secret_parts")
        request = services.document_request_take_up(actor=handler, request=request)
        request = services.document_request_refuse(actor=handler, request=request, reason="Sekretess")
        request = services.document_request_choice_record(actor=handler, request=request, wanted="yes")
        services.document_request_decide(actor=owner, request=request, outcome="refused", text="Sekretess enligt 24 §")
    assert [message.to for message in mailoutbox] == [["redaktion@example.se"]] * 3
    extension, refusal, decision = mailoutbox
    assert "sekretessbelagda delar" in extension.body
    assert refusal.attachments[0][0].endswith("-refusal.pdf")
    assert refusal.attachments[0][1].startswith(b"%PDF")
    assert "Beslut" in decision.subject
    assert decision.attachments[0][0].endswith("-decision.pdf")


def test_without_an_address_nothing_is_sent(people, eager, mailoutbox, django_capture_on_commit_callbacks):
    register, handler, _owner = people
    with django_capture_on_commit_callbacks(execute=True):
        refused(register, handler, "fi")
    assert mailoutbox == []
