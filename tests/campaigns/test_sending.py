"""Sending: over SMTP to a real sink, each message once, objections given after queuing honoured, resumable."""

import contextlib
import email
from email import policy

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from campaigns import sending, services
from campaigns.models import BounceMailbox, Campaign, CampaignRecipient
from crm import services as crm_services
from crm.models import Interaction
from tests.locks import advisory_lock_held_elsewhere

from .factories import campaign_draft, contact, marketing_register, organisation, person, sender

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    return marketing_register()


@pytest.fixture
def actor(register):
    return sender(register)


def queued(actor, register, **data) -> Campaign:
    campaign = campaign_draft(actor=actor, register=register, **data)
    return services.campaign_queue(actor=actor, campaign=campaign)


def parsed(message: dict):
    return email.message_from_bytes(message["data"], policy=policy.default)


def test_each_recipient_gets_one_message_in_their_language_with_one_click_headers(register, actor, smtp_sink, settings):
    settings.CAMPAIGN_SEND_BATCH = 2
    anna = person(register, email="anna@example.fi", language="sv")
    for n in range(4):
        person(register, email=f"p{n}@example.fi")
    campaign = queued(actor, register)

    result = sending.campaign_send_run(campaign.pk)

    assert result["sent"] == 5
    messages = smtp_sink.to("anna@example.fi")
    assert len(messages) == 1
    message = parsed(messages[0])
    assert message["Subject"] == "Välkommen till mässan"
    recipient = CampaignRecipient.objects.get(campaign=campaign, email="anna@example.fi")
    link = f"http://testserver/campaigns/u/{sending.unsubscribe_token(recipient)}/"
    assert message["List-Unsubscribe"].strip() == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Rekisteri-Recipient"] == recipient.token.hex
    assert message["Message-ID"].strip() == recipient.message_id
    assert link in message.get_content()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent_count) == (Campaign.State.SENT, 5)
    # The message is an outgoing e-mail on the recipient's timeline.
    interaction = Interaction.objects.get(customer=anna)
    assert (interaction.kind, interaction.subject) == (Interaction.Kind.EMAIL_OUT, "Välkommen till mässan")
    assert recipient.interaction_id == interaction.pk


def test_contact_persons_message_is_on_the_organisations_timeline(register, actor, smtp_sink):
    company = organisation(register)
    kept = contact(company, email="kept@example.fi")
    queued(actor, register, audience=Campaign.Audience.CONTACT_PERSONS)

    sending.campaign_send_run(Campaign.objects.get().pk)

    assert len(smtp_sink.to("kept@example.fi")) == 1
    assert Interaction.objects.filter(customer=company, contact_person=kept, kind="email_out").count() == 1


def test_an_objection_or_restriction_given_after_queuing_stops_the_message(register, actor, smtp_sink):
    objecting = person(register, email="objects@example.fi")
    restricted = person(register, email="restricted@example.fi")
    person(register, email="ok@example.fi")
    campaign = queued(actor, register)
    crm_services.customer_marketing_objection_set(actor=actor, customer=objecting)
    crm_services.customer_restriction_set(actor=actor, customer=restricted, restricted=True)

    sending.campaign_send_run(campaign.pk)

    assert [m["to"] for m in smtp_sink.messages] == [["ok@example.fi"]]
    reasons = dict(CampaignRecipient.objects.filter(campaign=campaign).values_list("email", "skip_reason"))
    assert reasons == {"objects@example.fi": "objection", "restricted@example.fi": "restricted", "ok@example.fi": ""}
    assert Campaign.objects.get(pk=campaign.pk).skipped_count == 2


def test_the_envelope_sender_is_the_bounce_mailbox(register, actor, smtp_sink):
    BounceMailbox.objects.create(
        organisation=register.organisation,
        address="bounces@example.fi",
        host="127.0.0.1",
        username="bounces",
        sealed_password="x",
    )
    person(register, email="anna@example.fi")
    campaign = queued(actor, register)

    sending.campaign_send_run(campaign.pk)

    assert smtp_sink.messages[0]["from"] == "bounces@example.fi"
    assert parsed(smtp_sink.messages[0])["From"] != "bounces@example.fi"


def test_a_killed_batch_is_not_sent_again_and_the_rest_is(register, actor, smtp_sink, settings):
    """At most once: rows left `sending` by a dead worker are marked failed, the queued ones are sent."""
    settings.CAMPAIGN_SEND_BATCH = 3
    for n in range(7):
        person(register, email=f"p{n}@example.fi")
    campaign = queued(actor, register)
    # A worker took a batch, then died before it recorded the outcome.
    taken = sending._batch_take(campaign, 3)

    sending.campaign_send_run(campaign.pk)

    states = dict(CampaignRecipient.objects.filter(campaign=campaign).values_list("email", "state"))
    assert {states[r.email] for r in taken} == {"failed"}
    assert sum(1 for state in states.values() if state == "sent") == 4
    assert {tuple(m["to"]) for m in smtp_sink.messages}.isdisjoint({(r.email,) for r in taken})
    assert len(smtp_sink.messages) == 4
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.SENT
    assert set(
        CampaignRecipient.objects.filter(campaign=campaign, state="failed").values_list("skip_reason", flat=True)
    ) == {sending.UNKNOWN_OUTCOME}


@contextlib.contextmanager
def held_elsewhere(campaign):
    """Hold the campaign's lock as another worker would: another database session (PostgreSQL) or the cache."""
    if connection.vendor != "postgresql":
        with sending._lock(campaign.pk) as held:
            assert held
            yield
        return
    with advisory_lock_held_elsewhere(sending._LOCK_NAMESPACE, campaign.pk):
        yield


def test_a_campaign_locked_by_another_worker_is_left_alone(register, actor, smtp_sink, private_cache):
    person(register, email="anna@example.fi")
    campaign = queued(actor, register)
    with held_elsewhere(campaign):
        assert sending.campaign_send_run(campaign.pk)["busy"]
    assert smtp_sink.messages == []
    assert not cache.get(f"campaigns:send:{campaign.pk}")
    # Once the other worker is gone, the campaign is sent.
    assert sending.campaign_send_run(campaign.pk)["sent"] == 1


def test_the_send_keeps_the_campaigns_rate(register, actor, smtp_sink, settings):
    settings.CAMPAIGN_SEND_BATCH = 100
    for n in range(6):
        person(register, email=f"p{n}@example.fi")
    campaign = queued(actor, register, rate_per_minute=2)
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    sending.campaign_send_run(campaign.pk, sleep=sleep, clock=lambda: now[0])

    # Two a minute, in batches of two: the 6 messages take 2 more minutes after the first batch.
    assert len(smtp_sink.messages) == 6
    assert sum(slept) == pytest.approx(120, abs=1)


def test_a_cancelled_campaign_sends_nothing(register, actor, smtp_sink):
    person(register, email="anna@example.fi")
    campaign = queued(actor, register)
    services.campaign_cancel(actor=actor, campaign=campaign)

    sending.campaign_send_run(campaign.pk)

    assert smtp_sink.messages == []
    assert set(campaign.recipients.values_list("state", flat=True)) == {"skipped"}


def test_the_test_send_goes_to_the_actor_only_in_each_language(register, actor, smtp_sink):
    person(register, email="anna@example.fi")
    campaign = campaign_draft(actor=actor, register=register)

    assert services.campaign_test_send(actor=actor, campaign=campaign) == 3

    assert {tuple(m["to"]) for m in smtp_sink.messages} == {(actor.email,)}
    assert not CampaignRecipient.objects.exists()
    assert not Interaction.objects.exists()


def test_resume_sends_what_was_left_queued(register, actor, smtp_sink, celery_eager):
    from campaigns.tasks import campaigns_resume

    person(register, email="anna@example.fi")
    campaign = queued(actor, register)
    assert campaigns_resume.delay().get() == 1
    assert len(smtp_sink.to("anna@example.fi")) == 1
    campaign.refresh_from_db()
    assert campaign.finished_at <= timezone.now()
