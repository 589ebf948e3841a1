"""The one state machine of data-subject requests: legal moves only, one event per move, four eyes."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from privacy.requests import services, workflow
from privacy.requests.models import (
    ERROR_EVENT_APPEND_ONLY,
    ERROR_STATE_OUTSIDE_WORKFLOW,
    DataSubjectRequest,
    RequestEvent,
)
from privacy.requests.workflow import TRANSITIONS, request_transition
from registers.models import Role

from ...conftest import grant
from ...factories import PersonCustomerFactory, RegisterFactory, UserFactory
from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State


def test_every_state_has_a_row_and_end_states_lead_nowhere():
    assert set(TRANSITIONS) == set(State.values)
    for end in (State.CLOSED, State.WITHDRAWN, State.DUPLICATE):
        assert TRANSITIONS[end] == frozenset()
    for targets in TRANSITIONS.values():
        assert targets <= set(State.values)


def test_an_illegal_move_is_refused_with_a_translated_message(register_a, handler_a):
    request = steps.confirmed(register_a)
    with pytest.raises(ValidationError) as error:
        request_transition(request=request, to=State.RESPONDED, actor=handler_a)
    assert error.value.messages == ["A request cannot move from “verifying identity” to “answered”."]
    request.refresh_from_db()
    assert request.state == State.VERIFYING


def test_the_state_cannot_be_saved_outside_the_workflow(register_a):
    request = steps.submit(register_a)
    request.state = State.RESPONDED
    with pytest.raises(ValidationError, match=str(ERROR_STATE_OUTSIDE_WORKFLOW)):
        request.save()
    with pytest.raises(ValidationError):
        DataSubjectRequest.objects.filter(pk=request.pk).update(state=State.CLOSED)
    with pytest.raises(ValidationError):
        DataSubjectRequest.objects.bulk_update([request], ["state"])
    assert DataSubjectRequest.objects.get(pk=request.pk).state == State.RECEIVED


def test_a_new_request_starts_as_received(register_a):
    request = DataSubjectRequest(
        organisation=register_a.organisation,
        reference="DSR-1999-000001",
        kind="access",
        channel="web",
        requester_name="X",
        state=State.RESPONDED,
    )
    with pytest.raises(ValidationError):
        request.save()


def test_a_stale_instance_cannot_write_an_old_state_back(register_a, handler_a):
    request = steps.confirmed(register_a)
    stale = DataSubjectRequest.objects.get(pk=request.pk)
    services.request_verify_identity(request=request, actor=handler_a, method="known_email")
    stale.details = "a later edit of another field"
    stale.save()
    fresh = DataSubjectRequest.objects.get(pk=request.pk)
    assert fresh.state == State.TRIAGE
    assert fresh.details == "a later edit of another field"


def test_each_move_appends_an_event_with_actor_states_and_reason(register_a, handler_a):
    request = steps.in_triage(register_a, handler_a)
    request_transition(request=request, to=State.ON_HOLD, actor=handler_a, reason="waiting for the archive")
    moves = list(request.events.filter(action=RequestEvent.Action.TRANSITION).values_list("from_state", "to_state"))
    assert moves == [
        ("", "received"),
        ("received", "verifying"),
        ("verifying", "triage"),
        ("triage", "on_hold"),
    ]
    last = request.events.filter(action=RequestEvent.Action.TRANSITION).last()
    assert last.actor == handler_a
    assert last.reason == "waiting for the archive"
    assert last.at is not None
    # The arrival is the first event of all.
    assert request.events.first().from_state == ""


def test_events_are_append_only(register_a):
    request = steps.submit(register_a)
    event = request.events.first()
    event.reason = "rewritten"
    with pytest.raises(ValidationError, match=str(ERROR_EVENT_APPEND_ONLY)):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        RequestEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ValidationError):
        RequestEvent.objects.filter(pk=event.pk).update(reason="x")
    assert RequestEvent.objects.get(pk=event.pk).reason != "rewritten"


def test_a_web_request_needs_a_confirmed_email_before_it_enters_the_queue(register_a, handler_a):
    request = steps.submit(register_a)
    with pytest.raises(ValidationError, match="not confirmed"):
        request_transition(request=request, to=State.VERIFYING, actor=handler_a)
    assert request.received_at is None


def test_an_unverified_request_cannot_enter_processing(register_a, handler_a):
    request = steps.confirmed(register_a)
    with pytest.raises(ValidationError) as error:
        request_transition(request=request, to=State.TRIAGE, actor=handler_a)
    assert error.value.messages == [str(workflow.ERROR_IDENTITY_NOT_VERIFIED)]


def test_the_identity_method_is_recorded_with_who_and_when(register_a, handler_a):
    request = steps.confirmed(register_a)
    request = services.request_verify_identity(
        request=request, actor=handler_a, method="in_person_id", note="passport shown"
    )
    assert request.state == State.TRIAGE
    assert (request.identity_method, request.verified_by, request.identity_note) == (
        "in_person_id",
        handler_a,
        "passport shown",
    )
    assert request.verified_at is not None
    assert request.events.filter(action=RequestEvent.Action.IDENTITY_VERIFIED, payload__method="in_person_id").exists()


def test_acting_for_someone_needs_the_mandate(register_a, handler_a):
    request = steps.confirmed(register_a, acting_for="Aapo Asiakas")
    with pytest.raises(ValidationError, match="mandate"):
        services.request_verify_identity(request=request, actor=handler_a, method="known_email")
    assert DataSubjectRequest.objects.get(pk=request.pk).state == State.VERIFYING


@pytest.mark.parametrize("target", [State.ON_HOLD, State.WITHDRAWN])
def test_holding_and_withdrawing_need_a_reason(register_a, handler_a, target):
    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(ValidationError, match="reason"):
        request_transition(request=request, to=target, actor=handler_a, reason="  ")


def test_cannot_identify_needs_a_reason_and_is_an_answer(register_a, handler_a):
    request = steps.confirmed(register_a)
    with pytest.raises(ValidationError):
        services.request_cannot_identify(request=request, actor=handler_a, reason="")
    request = services.request_cannot_identify(request=request, actor=handler_a, reason="The name does not match.")
    assert request.state == State.CANNOT_IDENTIFY
    assert request.responded_at is not None
    # More information from the person reopens identification: never a silent drop.
    assert State.VERIFYING in TRANSITIONS[State.CANNOT_IDENTIFY]


def test_the_answer_cannot_go_for_approval_before_every_register_is_checked(register_a, handler_a):
    request = steps.in_progress(register_a, handler_a)
    with pytest.raises(ValidationError, match="Check every register"):
        services.request_prepare(request=request, actor=handler_a)


def test_the_preparer_cannot_approve_the_answer(register_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = steps.in_review(register_a, owner_a, records=[customer])
    with pytest.raises(ValidationError) as error:
        services.request_approve(request=request, actor=owner_a)
    assert error.value.messages == [str(workflow.ERROR_FOUR_EYES)]
    assert DataSubjectRequest.objects.get(pk=request.pk).state == State.REVIEW


def test_whoever_checked_a_register_cannot_approve_either(register_a, owner_a, handler_a):
    request = steps.in_progress(register_a, handler_a)
    steps.checked(request, owner_a, register_a)
    services.request_prepare(request=request, actor=handler_a)
    with pytest.raises(ValidationError, match="someone other"):
        services.request_approve(request=request, actor=owner_a)


def test_another_owner_approves_and_the_approver_is_recorded(register_a, handler_a, owner_a):
    request = steps.answered(register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)])
    assert request.state == State.RESPONDED
    assert (request.prepared_by, request.approved_by) == (handler_a, owner_a)
    assert request.responded_at is not None
    assert request.outcome == State.RESPONDED


def test_a_handler_without_approval_rights_cannot_approve(register_a, handler_a):
    other_handler = UserFactory()
    grant(other_handler, register_a, Role.HANDLER)
    request = steps.in_review(register_a, handler_a)
    with pytest.raises(PermissionDenied):
        services.request_approve(request=request, actor=other_handler)


def test_the_approver_needs_rights_in_every_register_of_the_request(register_a, handler_a, owner_a):
    register_c = RegisterFactory(organisation=register_a.organisation)
    grant(handler_a, register_c, Role.HANDLER)
    request, _created = services.request_submit(
        organisation=register_a.organisation,
        registers=[register_a, register_c],
        all_registers=False,
        data={"kind": "access", "requester_name": "Anna", "requester_email": "anna@example.fi", "language": "fi"},
    )
    request = services.request_confirm_email(request=request)
    request = services.request_verify_identity(request=request, actor=handler_a, method="known_email")
    request = request_transition(request=request, to=State.IN_PROGRESS, actor=handler_a)
    steps.checked(request, handler_a, register_a)
    steps.checked(request, handler_a, register_c)
    services.request_prepare(request=request, actor=handler_a)
    with pytest.raises(PermissionDenied):
        services.request_approve(request=request, actor=owner_a)
    grant(owner_a, register_c, Role.OWNER)
    owner = type(owner_a).objects.get(pk=owner_a.pk)
    assert services.request_approve(request=request, actor=owner).state == State.RESPONDED


def test_a_handler_of_one_register_takes_no_step_of_a_request_over_two(register_a, handler_a):
    register_c = RegisterFactory(organisation=register_a.organisation)
    handler_ac = UserFactory()
    grant(handler_ac, register_a, Role.HANDLER)
    grant(handler_ac, register_c, Role.HANDLER)
    request, _created = services.request_submit(
        organisation=register_a.organisation,
        registers=[register_a, register_c],
        all_registers=False,
        data={"kind": "access", "requester_name": "Anna", "requester_email": "anna@example.fi", "language": "fi"},
    )
    request = services.request_confirm_email(request=request)
    with pytest.raises(PermissionDenied):
        services.request_verify_identity(request=request, actor=handler_a, method="known_email")
    request = services.request_verify_identity(request=request, actor=handler_ac, method="known_email")
    with pytest.raises(PermissionDenied):
        request_transition(request=request, to=State.IN_PROGRESS, actor=handler_a)
    with pytest.raises(PermissionDenied):
        services.request_ask_for_information(request=request, actor=handler_a, message="Kuka olet?")
    request = request_transition(request=request, to=State.IN_PROGRESS, actor=handler_ac)
    # Checking one's own register is the one thing a handler of one register does.
    steps.checked(request, handler_a, register_a)
    steps.checked(request, handler_ac, register_c)
    with pytest.raises(PermissionDenied):
        services.package_build(request=request, actor=handler_a)
    with pytest.raises(PermissionDenied):
        services.request_prepare(request=request, actor=handler_a)
    assert not request.packages.exists()
    assert services.request_prepare(request=request, actor=handler_ac).state == State.REVIEW


def test_a_user_of_another_register_cannot_move_the_request(register_a, handler_a, staff_b):
    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(PermissionDenied):
        request_transition(request=request, to=State.IN_PROGRESS, actor=staff_b)


def test_the_requester_may_only_confirm_and_withdraw(register_a, handler_a):
    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(PermissionDenied):
        request_transition(request=request, to=State.IN_PROGRESS, actor=None)
    request = services.request_withdraw_by_requester(request=request)
    assert request.state == State.WITHDRAWN
    assert request.closed_at is not None
    assert request.events.last().actor is None


def test_a_duplicate_points_to_its_original(register_a, handler_a):
    original = steps.confirmed(register_a)
    copy = steps.confirmed(register_a)
    with pytest.raises(ValidationError):
        services.request_mark_duplicate(request=copy, actor=handler_a, reference="DSR-1900-000001")
    copy = services.request_mark_duplicate(request=copy, actor=handler_a, reference=original.reference)
    assert (copy.state, copy.duplicate_of) == (State.DUPLICATE, original)


def test_reference_numbers_are_unique_and_follow_the_year(register_a):
    first, second = steps.submit(register_a), steps.submit(register_a)
    assert first.reference != second.reference
    year = first.created_at.year
    assert first.reference.startswith(f"DSR-{year}-")
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_cannot_identify_sends_a_letter_inviting_more_information(
    register_a, handler_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    request = steps.confirmed(register_a)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_cannot_identify(request=request, actor=handler_a, reason="The e-mail is not in our register.")
    [letter] = mailoutbox
    assert letter.to == [request.requester_email]
    assert "The e-mail is not in our register." in letter.body
    # In the requester's language (Finnish here), with the way forward and the Ombudsman.
    assert "lisätietoja" in letter.body
    assert "tietosuojavaltuutetulle" in letter.body


def test_asking_for_more_information_keeps_the_clock_and_sends_the_question(
    register_a, handler_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    request = steps.confirmed(register_a)
    due = request.legal_due_at
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_ask_for_information(request=request, actor=handler_a, message="Which city do you live in?")
    [letter] = mailoutbox
    assert "Which city do you live in?" in letter.body
    request.refresh_from_db()
    assert (request.state, request.legal_due_at) == (State.VERIFYING, due)
    assert request.events.filter(action=RequestEvent.Action.INFO_REQUESTED, actor=handler_a).exists()


def test_an_unconfirmed_web_request_stays_visible_to_staff(register_a, handler_a):
    from privacy.requests import selectors

    request = steps.submit(register_a)
    # In a list of its own: it has no deadline yet, and no step is the handler's until the address is confirmed.
    assert request in selectors.request_queue(user=handler_a, unconfirmed=True)
    assert request not in selectors.request_queue(user=handler_a)
