"""Bounces: delivery reports read from the controller's bounce mailbox (a real Dovecot) mark the address."""

import pytest
from django.utils import timezone

from campaigns import bounces, sending, services
from campaigns.models import BounceMailbox, Campaign, CampaignRecipient
from crm.models import ContactPerson, Customer
from registers.sealing import seal_text

from .factories import campaign_draft, contact, marketing_register, organisation, person, sender

pytestmark = pytest.mark.django_db


def dsn(*, address: str, action="failed", status="5.1.1", token="", message_id="") -> bytes:
    original = f"Message-ID: {message_id}\r\n" if message_id else ""
    if token:
        original += f"X-Rekisteri-Recipient: {token}\r\n"
    original += f"To: {address}\r\nSubject: Tervetuloa\r\n"
    return (
        "From: MAILER-DAEMON@mx.example.fi\r\n"
        "To: bounces@example.fi\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{timezone.now().timestamp()}@mx.example.fi>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "The message could not be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.fi\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "\r\n"
        "--B\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"{original}"
        "--B--\r\n"
    ).encode()


def test_a_permanent_failure_is_a_bounce_and_a_delay_is_not():
    bounce = bounces.bounce_parse(dsn(address="Anna@Example.fi", token="a" * 32, message_id="<m@x>"))
    assert (bounce.addresses, bounce.token, bounce.message_id) == (["anna@example.fi"], "a" * 32, "<m@x>")
    assert bounces.bounce_parse(dsn(address="anna@example.fi", action="delayed", status="4.4.1")) is None
    assert bounces.bounce_parse(b"From: someone@example.fi\r\nSubject: Hi\r\n\r\nJust mail.\r\n") is None


@pytest.fixture
def register():
    return marketing_register()


def mailbox_for(server, account, register) -> BounceMailbox:
    user, password = account
    return BounceMailbox.objects.create(
        organisation=register.organisation,
        address="bounces@example.fi",
        host=server.host,
        port=server.port,
        security="plain",
        username=user,
        sealed_password=seal_text(password),
    )


def test_bounces_in_the_mailbox_mark_the_address_in_every_register_and_the_recipient(
    register, dovecot, dovecot_account, smtp_sink
):
    actor = sender(register)
    anna = person(register, email="anna@example.fi")
    second = marketing_register(organisation=register.organisation)
    company = organisation(second)
    anna_at_work = contact(company, email="ANNA@example.fi")
    bertta = person(register, email="bertta@example.fi")
    campaign = services.campaign_queue(actor=actor, campaign=campaign_draft(actor=actor, register=register))
    sending.campaign_send_run(campaign.pk)
    recipient = CampaignRecipient.objects.get(campaign=campaign, email="anna@example.fi")
    mailbox = mailbox_for(dovecot, dovecot_account, register)
    dovecot.deliver(
        dovecot_account[0],
        "INBOX",
        [
            # The receiving server's report quotes our headers: the recipient is found by its token.
            dsn(address="anna@example.fi", token=recipient.token.hex),
            dsn(address="bertta@example.fi", action="delayed", status="4.2.2"),
        ],
    )

    result = bounces.bounce_mailbox_read(mailbox)

    assert (result.fetched, result.bounces, result.problems) == (2, 1, [])
    assert Customer.objects.get(pk=anna.pk).email_bounced_at is not None
    assert ContactPerson.objects.get(pk=anna_at_work.pk).email_bounced_at is not None
    assert Customer.objects.get(pk=bertta.pk).email_bounced_at is None
    assert CampaignRecipient.objects.get(pk=recipient.pk).state == CampaignRecipient.State.BOUNCED
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2

    # Read again: nothing new; and the next campaign leaves the bounced address out.
    assert bounces.bounce_mailbox_read(mailbox).fetched == 0
    later = campaign_draft(actor=actor, register=register)
    services.campaign_queue(actor=actor, campaign=later)
    assert list(later.recipients.values_list("email", flat=True)) == ["bertta@example.fi"]
    assert Campaign.objects.get(pk=later.pk).exclusions["bounced"] == 1


def test_a_wrong_password_is_a_stored_problem_not_a_crash(register, dovecot, dovecot_account):
    mailbox = mailbox_for(dovecot, (dovecot_account[0], "wrong"), register)
    result = bounces.bounce_mailbox_read(mailbox)
    assert result.problems == [{"problem": "login"}]
    mailbox.refresh_from_db()
    assert mailbox.last_problems == [{"problem": "login"}]


def test_the_beat_task_reads_every_mailbox_in_use(register, dovecot, dovecot_account, celery_eager):
    from campaigns.tasks import bounces_read

    mailbox = mailbox_for(dovecot, dovecot_account, register)
    dovecot.deliver(dovecot_account[0], "INBOX", [dsn(address="nobody@example.fi")])
    assert bounces_read.delay().get() == {"mailboxes": 1, "bounces": 1, "problems": 0}
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None
