"""Deadlines: one calendar month from receipt (GDPR 12(3)), the register's answer time, one extension."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from privacy.requests import services, workflow
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.requests.workflow import deadlines_for, request_extend, request_transition

from ...factories import RegisterFactory
from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State


def helsinki(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo("Europe/Helsinki"))


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ((2026, 1, 31, 10), datetime.date(2026, 2, 28)),
        ((2028, 1, 31, 10), datetime.date(2028, 2, 29)),
        ((2026, 3, 31, 10), datetime.date(2026, 4, 30)),
        ((2026, 12, 15, 10), datetime.date(2027, 1, 15)),
        # Late in the evening in Helsinki is already the next day in UTC; the local day counts.
        ((2026, 1, 31, 23, 30), datetime.date(2026, 2, 28)),
    ],
)
def test_the_legal_deadline_is_one_calendar_month_from_receipt(received, due):
    _service, legal = deadlines_for(received_at=helsinki(*received), kind="access", answer_days=[7])
    assert timezone.localdate(legal) == due


def test_the_service_deadline_is_the_registers_answer_time_for_access():
    service, legal = deadlines_for(received_at=helsinki(2026, 3, 2, 9), kind="access", answer_days=[7, 14])
    assert timezone.localdate(service) == datetime.date(2026, 3, 9)
    assert timezone.localdate(legal) == datetime.date(2026, 4, 2)


def test_other_requests_have_the_legal_deadline_as_their_service_deadline():
    service, legal = deadlines_for(received_at=helsinki(2026, 3, 2, 9), kind="erasure", answer_days=[7])
    assert service == legal


def test_confirming_the_email_starts_the_clock(register_a):
    request = steps.submit(register_a)
    assert (request.received_at, request.legal_due_at) == (None, None)
    before = timezone.now()
    request = services.request_confirm_email(request=request)
    assert before <= request.received_at <= timezone.now()
    local = timezone.localtime(request.received_at)
    assert timezone.localdate(request.service_due_at) == (local + datetime.timedelta(days=7)).date()
    assert request.legal_due_at == local + workflow.LEGAL_PERIOD


def test_a_register_with_a_longer_answer_time_sets_a_later_service_deadline(register_a):
    slow = RegisterFactory(organisation=register_a.organisation, access_answer_days=14)
    request = services.request_confirm_email(request=steps.submit(slow))
    assert (timezone.localdate(request.service_due_at) - timezone.localdate(request.received_at)).days == 14


def test_a_letter_received_earlier_counts_from_its_day_of_receipt(register_a, handler_a):
    received_on = timezone.localdate() - datetime.timedelta(days=3)
    request = services.request_intake(
        actor=handler_a,
        registers=[register_a],
        data={
            "kind": "access",
            "channel": DataSubjectRequest.Channel.POST,
            "requester_name": "Kirje Kirjoittaja",
            "received_on": received_on,
            "identity_method": "signed_letter",
        },
    )
    assert timezone.localdate(request.received_at) == received_on
    assert timezone.localdate(request.service_due_at) == received_on + datetime.timedelta(days=7)
    assert request.state == State.TRIAGE


def test_putting_a_request_on_hold_does_not_stop_the_clock(register_a, handler_a):
    request = steps.in_triage(register_a, handler_a)
    due = (request.service_due_at, request.legal_due_at)
    request = request_transition(request=request, to=State.ON_HOLD, actor=handler_a, reason="asked for details")
    assert (request.service_due_at, request.legal_due_at) == due


def test_the_deadline_is_extended_once_by_two_months_with_reason_and_notice(
    register_a, handler_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    request = steps.in_triage(register_a, handler_a)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = request_extend(request=request, actor=handler_a, reason="Data in three archives must be combined.")
    local = timezone.localtime(request.received_at)
    assert request.legal_due_at == local + (workflow.LEGAL_PERIOD + workflow.EXTENSION)
    assert (request.extended_by, request.extension_reason) == (handler_a, "Data in three archives must be combined.")
    event = request.events.get(action=RequestEvent.Action.EXTENSION)
    assert event.actor == handler_a
    assert event.reason == "Data in three archives must be combined."
    notice = Correspondence.objects.get(request=request, kind=Correspondence.Kind.EXTENSION_NOTICE)
    assert notice.sent_at is not None
    [message] = mailoutbox
    assert message.to == [request.requester_email]
    assert "Data in three archives must be combined." in message.body
    assert request.reference in message.subject
    with pytest.raises(ValidationError) as error:
        request_extend(request=request, actor=handler_a, reason="Once more")
    assert error.value.messages == [str(workflow.ERROR_EXTENSION_TWICE)]


def test_a_31_january_request_extended_is_due_on_30_april(register_a, handler_a, monkeypatch):
    request = steps.in_triage(register_a, handler_a)
    received = helsinki(2026, 1, 31, 10)
    _service, legal = deadlines_for(received_at=received, kind="access", answer_days=[7])
    DataSubjectRequest.objects.filter(pk=request.pk).update(received_at=received, legal_due_at=legal)
    monkeypatch.setattr(workflow.timezone, "now", lambda: helsinki(2026, 2, 20, 12))
    request = request_extend(request=request, actor=handler_a, reason="Large request")
    assert timezone.localdate(request.legal_due_at) == datetime.date(2026, 4, 30)


def test_an_extension_without_a_reason_is_refused(register_a, handler_a):
    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(ValidationError):
        request_extend(request=request, actor=handler_a, reason="  ")
    assert DataSubjectRequest.objects.get(pk=request.pk).extended_at is None


def test_an_extension_after_the_legal_deadline_is_refused(register_a, handler_a):
    request = services.request_intake(
        actor=handler_a,
        registers=[register_a],
        data={
            "kind": "access",
            "channel": DataSubjectRequest.Channel.POST,
            "requester_name": "Myöhäinen",
            "received_on": timezone.localdate() - datetime.timedelta(days=40),
        },
    )
    assert request.legal_due_at < timezone.now()
    with pytest.raises(ValidationError) as error:
        request_extend(request=request, actor=handler_a, reason="Too late now")
    assert error.value.messages == [str(workflow.ERROR_EXTENSION_LATE)]


def test_a_finished_request_cannot_be_extended(register_a, handler_a):
    request = steps.in_triage(register_a, handler_a)
    request = request_transition(request=request, to=State.WITHDRAWN, actor=handler_a, reason="by phone")
    with pytest.raises(ValidationError):
        request_extend(request=request, actor=handler_a, reason="x")


def test_a_staff_user_of_another_register_cannot_extend(register_a, handler_a, staff_b):
    from django.core.exceptions import PermissionDenied

    request = steps.in_triage(register_a, handler_a)
    with pytest.raises(PermissionDenied):
        request_extend(request=request, actor=staff_b, reason="x")
