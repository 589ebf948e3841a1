"""A request from the public form waits for its e-mail confirmation: the requester is reminded once, a day after the
confirmation letter and while its link still works, and the handlers' queue lists such requests apart, with counts,
showing no more of them than any queue row shows."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.requests import emails, services, tasks, tokens
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent

from .. import steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
QUEUE = reverse("privacy:queue")


def send_outbox():
    for pk in Correspondence.objects.filter(sent_at=None).values_list("pk", flat=True):
        emails.correspondence_send(correspondence_id=pk)


def letters_sent_ago(request, hours: float, kind=Correspondence.Kind.CONFIRM_EMAIL):
    send_outbox()
    request.correspondence.filter(kind=kind).update(sent_at=timezone.now() - datetime.timedelta(hours=hours))


def reminders(request):
    return request.correspondence.filter(kind=Correspondence.Kind.CONFIRM_REMINDER)


def test_an_unconfirmed_request_is_reminded_once_with_a_link_that_confirms_it(public_client, register_a):
    request = steps.submit(register_a, language="en")
    letters_sent_ago(request, 25)
    mail.outbox.clear()

    assert tasks.confirmation_reminders_send() == 1
    send_outbox()
    # However often the task runs, and whatever time passes while the link works: one reminder.
    assert tasks.confirmation_reminders_send() == 0
    letters_sent_ago(request, 40)
    assert tasks.confirmation_reminders_send() == 0

    [reminder] = mail.outbox
    assert reminder.to == [request.requester_email]
    assert request.reference in reminder.subject
    assert "This is the only reminder" in reminder.body
    assert reminders(request).get().sent_at is not None
    event = request.events.get(action=RequestEvent.Action.LETTER_QUEUED, payload__kind="confirm_reminder")
    assert event.to_state == State.RECEIVED
    link = re.search(r"https?://\S+/confirm/\S+", reminder.body).group(0)
    path = link.split("testserver", 1)[-1]
    assert public_client.post(path).status_code == 302
    request.refresh_from_db()
    assert request.state == State.VERIFYING


@pytest.mark.parametrize(
    ("hours", "reminded"),
    [(2, False), (23.5, False), (24.5, True), (47.5, True), (48.5, False)],
)
def test_the_reminder_goes_only_while_the_first_link_still_works(register_a, hours, reminded):
    request = steps.submit(register_a)
    letters_sent_ago(request, hours)
    assert tasks.confirmation_reminders_send() == int(reminded)
    assert reminders(request).exists() == reminded


def test_a_confirmed_withdrawn_or_unsent_request_is_not_reminded(register_a):
    confirmed = steps.confirmed(register_a)
    withdrawn = services.request_withdraw_by_requester(request=steps.submit(register_a))
    letters_sent_ago(confirmed, 25)
    letters_sent_ago(withdrawn, 25)
    never_sent = steps.submit(register_a)
    never_sent.correspondence.update(created_at=timezone.now() - datetime.timedelta(hours=30))

    assert tasks.confirmation_reminders_send() == 0
    assert not Correspondence.objects.filter(kind=Correspondence.Kind.CONFIRM_REMINDER).exists()


def test_a_newer_confirmation_letter_restarts_the_day(register_a):
    request = steps.submit(register_a)
    letters_sent_ago(request, 30)
    # The requester sent the same form again: a new letter, a new link, the day counts from it.
    Correspondence.objects.create(
        request=request,
        kind=Correspondence.Kind.CONFIRM_EMAIL,
        created_at=timezone.now(),
        sent_at=timezone.now() - datetime.timedelta(hours=1),
    )
    assert tasks.confirmation_reminders_send() == 0


def test_the_reminder_is_a_beat_task(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "privacy.tasks.confirmation_reminders_send" in scheduled
    assert tokens.CONFIRM_REMINDER_AFTER < tokens.CONFIRM_MAX_AGE


# The queue ------------------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_queue_lists_unconfirmed_requests_apart_with_counts(staff_client, register_a, register_b, handler_a):
    waiting = [steps.submit(register_a, name="Salainen Pyytäjä") for _ in range(2)]
    confirmed = steps.confirmed(register_a)
    elsewhere = steps.submit(register_b)
    staff_client.force_login(handler_a)

    open_tab = staff_client.get(QUEUE).content.decode()
    unconfirmed_tab = staff_client.get(QUEUE, {"show": "unconfirmed"}).content.decode()

    assert re.search(r'id="count-open">1<', open_tab)
    assert re.search(r'id="count-unconfirmed">2<', open_tab)
    assert confirmed.reference in open_tab
    assert all(request.reference not in open_tab for request in waiting)
    assert all(request.reference in unconfirmed_tab for request in waiting)
    assert confirmed.reference not in unconfirmed_tab
    assert elsewhere.reference not in unconfirmed_tab
    # Nothing more than a queue row shows: no name, no address of a requester whose address is not proven.
    for request in waiting:
        assert request.requester_email not in unconfirmed_tab
    assert "Salainen" not in unconfirmed_tab
    assert "Waiting for e-mail confirmation" in unconfirmed_tab


def test_the_counts_follow_the_filters(staff_client, register_a, handler_a):
    steps.submit(register_a, kind=DataSubjectRequest.Kind.ERASURE)
    steps.submit(register_a)
    staff_client.force_login(handler_a)
    html = staff_client.get(QUEUE, {"show": "unconfirmed", "kind": "erasure"}).content.decode()
    assert re.search(r'id="count-unconfirmed">1<', html)
