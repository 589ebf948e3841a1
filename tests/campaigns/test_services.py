"""The campaign's draft, its audience and exclusions, and the queue: who is left out, and why."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from campaigns import audience, services
from campaigns.models import Campaign, CampaignRecipient
from crm import services as crm_services
from crm.models import SavedView

from .factories import campaign_draft, contact, marketing_register, organisation, person, sender

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    return marketing_register()


@pytest.fixture
def actor(register):
    return sender(register)


def test_a_draft_needs_a_subject_and_message_in_one_language(register, actor):
    with pytest.raises(ValidationError) as error:
        campaign_draft(actor=actor, register=register, **dict.fromkeys(audience_fields(), ""))
    with translation.override("en"):
        assert "Write the subject and the message in at least one language." in str(error.value)


def audience_fields():
    return ("subject_fi", "body_fi", "subject_sv", "body_sv", "subject_en", "body_en")


def test_a_subject_without_its_message_is_refused(register, actor):
    with pytest.raises(ValidationError) as error:
        campaign_draft(actor=actor, register=register, body_sv="")
    assert "body_sv" in error.value.message_dict


def test_the_queue_leaves_out_objection_restriction_no_email_bounced_and_duplicates(register, actor):
    reachable = person(register, email="anna@example.fi")
    person(register, email="ANNA@example.fi")  # the same address in other letters
    person(register, email="objects@example.fi", marketing_objection=True)
    restricted = person(register, email="restricted@example.fi")
    crm_services.customer_restriction_set(actor=actor, customer=restricted, restricted=True)
    person(register, email="")
    person(register, email="bounced@example.fi", email_bounced_at=timezone.now())
    organisation(register, email="org@example.fi")  # not a person: not in a PERSONS audience
    campaign = campaign_draft(actor=actor, register=register)

    counted = audience.audience_count(user=actor, campaign=campaign)
    assert counted.eligible == 1
    assert counted.exclusions == {"objection": 1, "restricted": 1, "no_email": 1, "bounced": 1, "duplicate": 1}

    services.campaign_queue(actor=actor, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.QUEUED
    assert campaign.exclusions == counted.exclusions
    assert list(campaign.recipients.values_list("email", "customer_id")) == [("anna@example.fi", reachable.pk)]


def test_contact_persons_with_their_own_or_the_organisations_objection_are_left_out(register, actor):
    company = organisation(register, language="sv")
    kept = contact(company, email="kept@example.fi")
    contact(company, email="self@example.fi", marketing_objection=True)
    objecting = organisation(register, marketing_objection=True)
    contact(objecting, email="through-org@example.fi")
    person(register, email="person@example.fi")
    campaign = campaign_draft(actor=actor, register=register, audience=Campaign.Audience.CONTACT_PERSONS)

    services.campaign_queue(actor=actor, campaign=campaign)

    recipient = CampaignRecipient.objects.get(campaign=campaign)
    assert (recipient.email, recipient.contact_person_id, recipient.language) == ("kept@example.fi", kept.pk, "sv")
    assert Campaign.objects.get(pk=campaign.pk).exclusions["objection"] == 2


def test_a_language_without_text_falls_back_to_finnish_then_swedish(register, actor):
    person(register, email="en@example.fi", language="en")
    person(register, email="other@example.fi", language="other")
    campaign = campaign_draft(actor=actor, register=register, subject_fi="", body_fi="", subject_en="", body_en="")

    services.campaign_queue(actor=actor, campaign=campaign)

    assert set(campaign.recipients.values_list("language", flat=True)) == {"sv"}


def test_the_segment_narrows_the_audience(register, actor):
    person(register, email="kept@example.fi", language="sv")
    person(register, email="other@example.fi", language="fi")
    segment = SavedView.objects.create(register=register, owner=actor, name="Ruotsinkieliset", query={"language": "sv"})
    campaign = campaign_draft(actor=actor, register=register, segment=segment)

    services.campaign_queue(actor=actor, campaign=campaign)

    assert list(campaign.recipients.values_list("email", flat=True)) == ["kept@example.fi"]


def test_another_registers_segment_is_refused(register, actor):
    other = marketing_register()
    segment = SavedView.objects.create(register=other, owner=actor, name="Muualta")
    with pytest.raises(ValidationError) as error:
        campaign_draft(actor=actor, register=register, segment=segment)
    assert "segment" in error.value.message_dict


def test_queuing_twice_or_cancelling_a_sent_campaign_is_refused(register, actor):
    person(register, email="anna@example.fi")
    campaign = campaign_draft(actor=actor, register=register)
    services.campaign_queue(actor=actor, campaign=campaign)
    with pytest.raises(ValidationError):
        services.campaign_queue(actor=actor, campaign=campaign)
    campaign.refresh_from_db()
    services.campaign_transition(campaign=campaign, to=Campaign.State.SENDING, actor=None)
    services.campaign_transition(campaign=campaign, to=Campaign.State.SENT, actor=None)
    with pytest.raises(ValidationError), translation.override("en"):
        services.campaign_cancel(actor=actor, campaign=campaign)


def test_a_segment_with_nobody_to_reach_is_not_queued(register, actor):
    person(register, email="objects@example.fi", marketing_objection=True)
    campaign = campaign_draft(actor=actor, register=register)
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            services.campaign_queue(actor=actor, campaign=campaign)
        assert "Nobody in the segment can receive the campaign." in error.value.messages
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.DRAFT


def test_the_queue_counts_in_constant_queries(register, actor, django_assert_max_num_queries):
    for n in range(30):
        person(register, email=f"p{n}@example.fi", marketing_objection=n % 3 == 0)
    campaign = campaign_draft(actor=actor, register=register)
    # The campaign's two audit entries are linked in the audit chain: 4 statements each (registers.audit_chain).
    with django_assert_max_num_queries(20 + 2 * 4):
        services.campaign_queue(actor=actor, campaign=campaign)
    assert campaign.recipients.count() == 20


def test_a_colleagues_private_segment_reaches_nobody_when_another_user_queues(register, actor):
    person(register, email="kept@example.fi", language="sv")
    colleague = sender(register, "colleague")
    private = SavedView.objects.create(register=register, owner=colleague, name="Oma", query={"language": "sv"})
    campaign = campaign_draft(actor=colleague, register=register, segment=private)
    assert audience.audience_count(user=colleague, campaign=campaign).eligible == 1
    with pytest.raises(ValidationError):
        services.campaign_queue(actor=actor, campaign=campaign)
    assert not CampaignRecipient.objects.exists()
