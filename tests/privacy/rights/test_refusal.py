"""Refusals (GDPR 12(4); PRIVACY.md "Refusal: reasons + complaint + judicial remedy", "Access restriction"): at
least one legal ground code and a text, and a letter naming the Data Protection Ombudsman and the appeal, in the
requester's language."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from privacy.requests import tokens
from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition
from privacy.rights import refusals
from privacy.rights.models import Refusal, RefusalGround

from ...factories import PersonCustomerFactory
from .. import steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State

OMBUDSMAN = {
    "fi": ["Tietosuojavaltuutetun toimisto", "PL 800, 00531 Helsinki", "hallinto-oikeu"],
    "sv": ["Dataombudsmannens byrå", "PB 800, 00531 Helsingfors", "förvaltningsdomstol"],
    "en": ["Office of the Data Protection Ombudsman", "P.O. Box 800, 00531 Helsinki", "administrative court"],
}


def test_a_refusal_without_a_legal_ground_or_a_text_fails_and_nothing_changes(register_a, handler_a, owner_a):
    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(ValidationError, match="legal ground"):
        refusals.request_refuse(request=request, actor=owner_a, grounds=[], text="Pyyntö on perusteeton.")
    with pytest.raises(ValidationError, match="own words"):
        refusals.request_refuse(request=request, actor=owner_a, grounds=[RefusalGround.UNFOUNDED], text="  ")
    with pytest.raises(ValidationError):
        refusals.request_refuse(request=request, actor=owner_a, grounds=["gdpr_99"], text="Keksitty peruste.")
    request.refresh_from_db()
    assert request.state == State.TRIAGE
    assert not Refusal.objects.exists()
    assert not request.letters.exists()


def test_the_state_machine_refuses_a_refusal_that_was_not_decided_with_grounds(register_a, handler_a, owner_a):
    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(ValidationError, match="legal grounds and reasons"):
        request_transition(request=request, to=State.REFUSED, actor=owner_a, reason="ei käy")


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_letter_names_the_ombudsman_and_the_appeal_in_the_requesters_language(
    register_a, handler_a, owner_a, language
):
    request = steps.in_triage(register_a, handler_a, language=language)

    request = refusals.request_refuse(
        request=request,
        actor=owner_a,
        grounds=[RefusalGround.UNFOUNDED],
        text="Sama pyyntö on esitetty kymmenen kertaa viikossa.",
    )

    assert request.state == State.REFUSED
    letter = request.letters.get()
    assert letter.language == language
    for expected in [*OMBUDSMAN[language], "tietosuoja@om.fi", "tietosuoja.fi"]:
        assert expected in letter.html
        assert expected in letter.text
    assert str(RefusalGround.UNFOUNDED.label) not in letter.html or language == "en"
    assert "Sama pyyntö on esitetty kymmenen kertaa viikossa." in letter.text
    [mail] = [m for m in steps.send_letters() if m.to == [request.requester_email] and "tietosuoja@om.fi" in m.body]
    assert OMBUDSMAN[language][0] in mail.body


def test_an_access_answer_can_be_partly_refused_under_the_data_protection_act(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = steps.in_review(register_a, handler_a, [customer], language="en")
    request = refusals.request_refuse(
        request=request,
        actor=owner_a,
        grounds=[RefusalGround.ACCESS_RESTRICTED],
        text="Part of the notes would seriously endanger your health care.",
        partial=True,
    )
    assert request.state == State.PARTLY_REFUSED
    refusal = request.refusals.get()
    assert refusal.partial
    assert refusal.grounds == [RefusalGround.ACCESS_RESTRICTED]
    assert "1050/2018 34 §" in request.letters.get().text


def test_the_preparer_cannot_refuse_and_a_handler_without_approval_rights_neither(register_a, handler_a, owner_a):
    request = steps.in_review(register_a, owner_a, [])
    with pytest.raises(ValidationError, match="someone other than"):
        refusals.request_refuse(request=request, actor=owner_a, grounds=[RefusalGround.UNFOUNDED], text="Ei.")
    with pytest.raises(PermissionDenied):
        refusals.request_refuse(request=request, actor=handler_a, grounds=[RefusalGround.UNFOUNDED], text="Ei.")
    assert not Refusal.objects.exists()


def test_the_refusal_form_is_for_approvers_only(client, register_a, handler_a, owner_a, staff_b, readonly_a):
    request = steps.in_triage(register_a, handler_a)
    url = reverse("privacy:rights-refuse", kwargs={"code": request.code})
    data = {"grounds": [RefusalGround.UNFOUNDED], "text": "Perusteeton pyyntö."}
    for user, status in ((staff_b, 404), (readonly_a, 403), (handler_a, 403)):
        client.force_login(user)
        assert client.post(url, data).status_code == status
    client.force_login(owner_a)
    assert client.post(url, {"text": "Ei perustetta."}).status_code == 302
    request.refresh_from_db()
    assert request.state == State.TRIAGE  # no ground chosen: shown as an error, nothing decided
    assert client.post(url, data).status_code == 302
    request.refresh_from_db()
    assert request.state == State.REFUSED


def test_the_requester_reads_the_letter_through_the_status_link(register_a, handler_a, owner_a):
    request = steps.in_triage(register_a, handler_a, language="en")
    refusals.request_refuse(request=request, actor=owner_a, grounds=[RefusalGround.UNFOUNDED], text="No grounds.")
    from django.test import Client

    response = Client().get(reverse("privacy:status-letter", kwargs={"token": tokens.status_token_make(request)}))
    assert response.status_code == 200
    assert "Office of the Data Protection Ombudsman" in response.content.decode()
    assert "sandbox" in response["Content-Security-Policy"]
