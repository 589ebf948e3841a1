"""Background work: the outbox sweeper, deadline reminders and the beat schedule."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from privacy.requests import services, tasks
from privacy.requests.models import Correspondence, DataSubjectRequest

from .. import steps

pytestmark = pytest.mark.django_db


def late_request(handler, register, days_ago=10):
    return services.request_intake(
        actor=handler,
        registers=[register],
        data={
            "kind": "access",
            "channel": DataSubjectRequest.Channel.POST,
            "requester_name": "Vanha Kirje",
            "received_on": timezone.localdate() - datetime.timedelta(days=days_ago),
        },
    )


def test_the_sweeper_sends_what_is_left_once(register_a):
    steps.submit(register_a)
    steps.submit(register_a)
    Correspondence.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    assert tasks.correspondence_sweep() == 2
    assert len(mail.outbox) == 2
    assert tasks.correspondence_sweep() == 0
    assert len(mail.outbox) == 2


def test_the_sweeper_leaves_fresh_letters_to_their_own_task(register_a):
    steps.submit(register_a)
    assert tasks.correspondence_sweep() == 0


def test_a_failing_mail_server_is_retried_and_recorded(register_a, monkeypatch):
    steps.submit(register_a)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert tasks.correspondence_sweep(older_than_seconds=0) == 0
    letter = Correspondence.objects.get()
    assert (letter.sent_at, letter.attempts, letter.last_error) == (None, 1, "ConnectionRefusedError")
    monkeypatch.undo()
    assert tasks.correspondence_sweep(older_than_seconds=0) == 1


def test_handlers_and_owners_are_reminded_of_overdue_requests(
    register_a, register_b, handler_a, owner_a, staff_a, staff_b
):
    late = late_request(handler_a, register_a)
    on_time = steps.confirmed(register_a)
    mail.outbox.clear()
    assert tasks.deadline_reminders_send() == 2
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([handler_a.email, owner_a.email])
    body = mail.outbox[0].body
    assert late.reference in body
    assert on_time.reference not in body
    # No personal data of the requester in a reminder.
    assert "Vanha Kirje" not in body


def test_no_reminders_when_nothing_is_due(register_a, handler_a):
    steps.confirmed(register_a)
    mail.outbox.clear()
    assert tasks.deadline_reminders_send() == 0
    assert mail.outbox == []


def test_the_beat_schedule_runs_the_privacy_tasks():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "privacy.tasks.correspondence_sweep",
        "privacy.tasks.deadline_reminders_send",
        "privacy.tasks.packages_expire",
    } <= scheduled
