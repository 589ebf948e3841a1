"""The daily follow-up digest: one e-mail a day per user who wants it, listing what is due today or overdue,
in the user's language, with links to the customers; a second run the same day sends nothing."""

import datetime
import email
from email import policy

import pytest
from django.core import mail
from django.utils import timezone

from followups import tasks
from followups.models import DigestDelivery
from registers.models import Role, UserProfile

from ..conftest import grant
from ..factories import CustomerFactory, PersonCustomerFactory, UserFactory
from .factories import FollowUpFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)
NEXT_WEEK = TODAY + datetime.timedelta(days=7)


def test_each_user_gets_one_mail_with_what_is_due_and_overdue(register_a, staff_a, handler_a):
    customer = CustomerFactory(register=register_a, organisation_name="Erääntyvä Oy")
    later = CustomerFactory(register=register_a, organisation_name="Myöhemmin Oy")
    FollowUpFactory(customer=customer, assignee=staff_a, due_on=YESTERDAY)
    FollowUpFactory(customer=customer, assignee=staff_a, due_on=TODAY)
    FollowUpFactory(customer=later, assignee=staff_a, due_on=NEXT_WEEK)
    FollowUpFactory(customer=customer, assignee=handler_a, due_on=TODAY)

    result = tasks.digests_send()

    assert result == {"sent": 2, "failed": 0}
    assert sorted(message.to[0] for message in mail.outbox) == sorted([staff_a.email, handler_a.email])
    mine = next(message for message in mail.outbox if message.to == [staff_a.email])
    assert mine.subject == "2 follow-ups due"
    assert "Erääntyvä Oy" in mine.body
    assert "Myöhemmin Oy" not in mine.body
    assert f"http://testserver{customer.get_absolute_url()}" in mine.body
    assert "(overdue)" in mine.body
    html = mine.alternatives[0][0]
    assert f'href="http://testserver{customer.get_absolute_url()}"' in html
    assert DigestDelivery.objects.get(user=staff_a, sent_on=TODAY).followups == 2


def test_a_second_run_the_same_day_sends_nothing(register_a, staff_a):
    FollowUpFactory(customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TODAY)
    tasks.digests_send()
    FollowUpFactory(customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TODAY)
    assert tasks.digests_send() == {"sent": 0, "failed": 0}
    assert tasks.digest_send(user=staff_a, today=TODAY) == 0
    assert len(mail.outbox) == 1


def test_no_mail_without_due_work_or_with_the_setting_off(register_a, staff_a, handler_a):
    FollowUpFactory(customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=NEXT_WEEK)
    FollowUpFactory(
        customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TODAY, done_at=timezone.now()
    )
    FollowUpFactory(customer=CustomerFactory(register=register_a), assignee=handler_a, due_on=TODAY)
    UserProfile.objects.create(user=handler_a, followup_digest=False)
    assert tasks.digests_send() == {"sent": 0, "failed": 0}
    assert mail.outbox == []


def test_a_register_the_user_no_longer_sees_drops_out_of_the_digest(register_a, register_b, staff_a):
    from registers.services import membership_end

    membership = grant(staff_a, register_b, Role.STAFF)
    FollowUpFactory(
        customer=CustomerFactory(register=register_b, organisation_name="Entinen Oy"), assignee=staff_a, due_on=TODAY
    )
    FollowUpFactory(
        customer=CustomerFactory(register=register_a, organisation_name="Nykyinen Oy"), assignee=staff_a, due_on=TODAY
    )
    membership_end(actor=UserFactory(username="grantor"), membership=membership, reason="moved")
    tasks.digests_send()
    [message] = mail.outbox
    assert "Nykyinen Oy" in message.body
    assert "Entinen Oy" not in message.body


def test_the_mail_is_in_the_users_language(register_a, staff_a):
    UserProfile.objects.create(user=staff_a, language="sv")
    FollowUpFactory(customer=PersonCustomerFactory(register=register_a), assignee=staff_a, due_on=TODAY)
    tasks.digests_send()
    [message] = mail.outbox
    # Swedish as written in Finland (config/formats/sv); the English default would write 11/30/2026.
    assert f"{TODAY.day}.{TODAY.month}.{TODAY.year}" in message.body


def test_the_note_stays_out_of_the_mail(register_a, staff_a):
    FollowUpFactory(
        customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TODAY, note="Salainen muistiinpano"
    )
    tasks.digests_send()
    [message] = mail.outbox
    assert "Salainen muistiinpano" not in message.body
    assert "Salainen muistiinpano" not in message.alternatives[0][0]


def test_the_digest_goes_over_smtp(register_a, staff_a, smtp_sink):
    customer = CustomerFactory(register=register_a, organisation_name="Välitetty Oy")
    FollowUpFactory(customer=customer, assignee=staff_a, due_on=YESTERDAY)
    assert tasks.digests_send() == {"sent": 1, "failed": 0}
    [received] = smtp_sink.messages
    assert received["to"] == [staff_a.email]
    message = email.message_from_bytes(received["data"], policy=policy.default)
    assert message["Subject"] == "1 follow-up due"
    assert "Välitetty Oy" in message.get_body(preferencelist=("plain",)).get_content()
    tasks.digests_send()
    assert len(smtp_sink.messages) == 1


def test_a_refusing_mail_server_leaves_the_day_unclaimed_for_the_next_run(register_a, staff_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    FollowUpFactory(customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TODAY)
    assert tasks.digests_send() == {"sent": 0, "failed": 1}
    assert not DigestDelivery.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.digests_send() == {"sent": 1, "failed": 0}
