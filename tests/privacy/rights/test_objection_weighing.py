"""Objection to processing for a public task or legitimate interests (GDPR 21(1); PRIVACY.md "Objection"): the
controller stops unless it documents compelling legitimate grounds. The handler weighs and records one or the
other (who, when, the grounds in words) before any answer; the answer to compelling grounds is a refusal on
ground gdpr_21_1 with a letter that gives them; stopping restricts the person's records."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.rights import objection_weighing, refusals
from privacy.rights import services as rights
from privacy.rights.guards import ERROR_GROUNDS_NOT_WEIGHED, ERROR_WEIGHING_PENDING
from privacy.rights.models import ERROR_COMPELLING_GROUNDS_TEXT, ObjectionRecord, ObjectionWeighing, RefusalGround
from registers.models import Role

from ...conftest import grant
from ...factories import PersonCustomerFactory, RegisterFactory
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Outcome = ObjectionWeighing.State
GROUNDS = "Rekisteriä tarvitaan yritystukien valvontaan, jota laki edellyttää."


@pytest.fixture(autouse=True)
def _english_pages(settings):
    settings.LANGUAGE_CODE = "en"


def objecting(register, handler, customer, **extra):
    return rights_steps.in_progress(
        [register], handler, kind=Kind.OBJECTION, records=[customer], language="en", **extra
    )


def weighed(request, handler, outcome, text=""):
    objection_weighing.objection_weighing_open(request=request, actor=handler)
    return objection_weighing.objection_weighing_decide(
        request=request, actor=handler, outcome=outcome, grounds_text=text
    )


def test_no_answer_can_be_prepared_or_given_while_the_weighing_is_pending(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = objecting(register_a, handler_a, customer)
    weighing = objection_weighing.objection_weighing_open(request=request, actor=handler_a)

    assert weighing.state == Outcome.PENDING
    with pytest.raises(ValidationError) as error:
        rights_steps.prepared(request, handler_a)
    assert error.value.messages == [str(ERROR_WEIGHING_PENDING)]
    # Not even a refusal on another ground: the weighing is the controller's answer to the objection.
    with pytest.raises(ValidationError) as error:
        refusals.request_refuse(
            request=request, actor=owner_a, grounds=[RefusalGround.UNFOUNDED], text="Pyyntö on perusteeton."
        )
    assert str(ERROR_WEIGHING_PENDING) in error.value.messages
    request.refresh_from_db()
    assert request.state == State.IN_PROGRESS
    assert not request.refusals.exists()
    assert not request.letters.exists()


def test_compelling_grounds_are_recorded_with_who_and_when_and_the_answer_refuses_on_them(
    register_a, handler_a, owner_a
):
    customer = PersonCustomerFactory(register=register_a)
    request = objecting(register_a, handler_a, customer)

    weighing = weighed(request, handler_a, Outcome.COMPELLING_GROUNDS, GROUNDS)

    assert (weighing.state, weighing.grounds_text, weighing.decided_by) == (
        Outcome.COMPELLING_GROUNDS,
        GROUNDS,
        handler_a,
    )
    assert weighing.decided_at is not None
    event = request.events.get(action=RequestEvent.Action.OBJECTION_WEIGHED)
    assert (event.actor, event.reason, event.payload["to"]) == (handler_a, GROUNDS, Outcome.COMPELLING_GROUNDS)
    customer.refresh_from_db()
    assert not customer.processing_restricted
    rights_steps.prepared(request, handler_a)
    assert refusals.proposed_outcome(request) == (State.REFUSED, [RefusalGround.COMPELLING_GROUNDS.value])

    request = refusals.rights_request_decide(request=request, actor=owner_a)

    assert request.state == State.REFUSED
    assert request.refusals.get().grounds == [RefusalGround.COMPELLING_GROUNDS.value]
    text = request.letters.get().text
    assert str(RefusalGround.COMPELLING_GROUNDS.label) in text
    assert GROUNDS in text
    assert "compelling legitimate grounds for the processing which override your interests" in text
    assert "Data Protection Ombudsman" in text


def test_marketing_stopped_and_processing_kept_on_compelling_grounds_is_a_partial_refusal(
    register_a, handler_a, owner_a
):
    customer = PersonCustomerFactory(register=register_a)
    request = objecting(register_a, handler_a, customer)
    rights.objection_apply(request=request, actor=handler_a)
    weighed(request, handler_a, Outcome.COMPELLING_GROUNDS, GROUNDS)
    rights_steps.prepared(request, handler_a)

    request = refusals.rights_request_decide(request=request, actor=owner_a)

    assert request.state == State.PARTLY_REFUSED
    text = request.letters.get().text
    assert "not used for direct marketing" in text
    assert GROUNDS in text


def test_compelling_grounds_must_be_written_down(register_a, handler_a):
    request = objecting(register_a, handler_a, PersonCustomerFactory(register=register_a))
    objection_weighing.objection_weighing_open(request=request, actor=handler_a)
    with pytest.raises(ValidationError) as error:
        objection_weighing.objection_weighing_decide(
            request=request, actor=handler_a, outcome=Outcome.COMPELLING_GROUNDS, grounds_text="  "
        )
    assert error.value.messages == [str(ERROR_COMPELLING_GROUNDS_TEXT)]
    assert request.objection_weighings.get().state == Outcome.PENDING


def test_stopping_the_processing_restricts_the_persons_records_and_answers_so(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = objecting(register_a, handler_a, customer)

    weighed(request, handler_a, Outcome.PROCESSING_STOPPED)

    customer.refresh_from_db()
    assert customer.processing_restricted
    record = ObjectionRecord.objects.get(customer=customer)
    assert (record.purpose, record.request, record.recorded_by) == (
        ObjectionRecord.Purpose.PROCESSING,
        request,
        handler_a,
    )
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)
    assert request.state == State.RESPONDED
    text = request.letters.get().text
    assert f"Processing of your data has stopped in: {register_a.name_en}" in text


def test_only_registers_kept_on_a_public_task_or_legitimate_interests_are_weighed(register_a, handler_a):
    consent_only = RegisterFactory(organisation=register_a.organisation, slug="suostumus", legal_bases=["a"])
    grant(handler_a, consent_only, Role.HANDLER)
    there = PersonCustomerFactory(register=consent_only)
    request = rights_steps.in_progress([consent_only], handler_a, kind=Kind.OBJECTION, records=[there])
    with pytest.raises(ValidationError) as error:
        objection_weighing.objection_weighing_open(request=request, actor=handler_a)
    assert error.value.messages == [str(objection_weighing.ERROR_NO_WEIGHED_BASIS)]

    here = PersonCustomerFactory(register=register_a)
    both = rights_steps.in_progress([register_a, consent_only], handler_a, kind=Kind.OBJECTION, records=[here, there])
    weighed(both, handler_a, Outcome.PROCESSING_STOPPED)
    here.refresh_from_db()
    there.refresh_from_db()
    assert here.processing_restricted
    # Art. 21(1) does not reach consent: the person withdraws it instead.
    assert not there.processing_restricted


def test_a_refusal_on_compelling_grounds_needs_the_weighing_that_recorded_them(register_a, handler_a, owner_a):
    request = objecting(register_a, handler_a, PersonCustomerFactory(register=register_a))
    with pytest.raises(ValidationError) as error:
        refusals.request_refuse(
            request=request, actor=owner_a, grounds=[RefusalGround.COMPELLING_GROUNDS], text="Meillä on syy."
        )
    assert str(ERROR_GROUNDS_NOT_WEIGHED) in error.value.messages
    request.refresh_from_db()
    assert request.state == State.IN_PROGRESS


def test_a_weighing_is_decided_once(register_a, handler_a):
    request = objecting(register_a, handler_a, PersonCustomerFactory(register=register_a))
    weighed(request, handler_a, Outcome.PROCESSING_STOPPED)
    with pytest.raises(ValidationError) as error:
        objection_weighing.objection_weighing_decide(
            request=request, actor=handler_a, outcome=Outcome.COMPELLING_GROUNDS, grounds_text=GROUNDS
        )
    assert error.value.messages == [str(objection_weighing.ERROR_NO_PENDING_WEIGHING)]
    with pytest.raises(ValidationError):
        objection_weighing.MACHINE.check(Outcome.PROCESSING_STOPPED, Outcome.COMPELLING_GROUNDS)


def test_the_rights_page_weighs_and_shows_the_outcome_with_a_translated_form_error(client, register_a, handler_a):
    request = objecting(register_a, handler_a, PersonCustomerFactory(register=register_a))
    page = reverse("privacy:rights", kwargs={"code": request.code})
    client.force_login(handler_a)
    assert "Weigh an objection to processing" in client.get(page).content.decode()

    client.post(reverse("privacy:rights-object-weigh", kwargs={"code": request.code}))
    html = client.get(page).content.decode()
    assert "is being weighed since" in html
    assert 'id="weighing-form"' in html

    decide = reverse("privacy:rights-object-weigh-decide", kwargs={"code": request.code})
    response = client.post(decide, {"outcome": Outcome.COMPELLING_GROUNDS, "grounds_text": ""}, follow=True)
    assert str(ERROR_COMPELLING_GROUNDS_TEXT) in response.content.decode()
    response = client.post(decide, {"outcome": Outcome.COMPELLING_GROUNDS, "grounds_text": GROUNDS}, follow=True)
    html = response.content.decode()
    assert "The compelling grounds were recorded" in html
    assert GROUNDS in html
    assert request.objection_weighings.get().state == Outcome.COMPELLING_GROUNDS


@pytest.mark.parametrize("name", ["privacy:rights-object-weigh", "privacy:rights-object-weigh-decide"])
def test_the_weighing_steps_are_post_only_404_for_another_register_and_403_for_read_only(
    client, register_a, handler_a, staff_b, readonly_a, name
):
    request = objecting(register_a, handler_a, PersonCustomerFactory(register=register_a))
    url = reverse(name, kwargs={"code": request.code})
    data = {"outcome": Outcome.PROCESSING_STOPPED}
    client.force_login(staff_b)
    assert client.post(url, data).status_code == 404
    client.force_login(readonly_a)
    assert client.post(url, data).status_code == 403
    client.force_login(handler_a)
    assert client.get(url).status_code == 405
    assert not request.objection_weighings.exists()
