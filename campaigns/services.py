"""The changes of a campaign: one function per action, each atomic and audited (auditlog records the fields).

A campaign is a state machine (`TRANSITIONS`): draft → queued → sending → sent, and cancelled from draft or
queued. Only `campaign_transition` moves it; views never set `state`.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers.audit_context import set_actor
from registers.models import Register

from . import audience as audiences
from .models import Campaign, CampaignRecipient

State = Campaign.State
TRANSITIONS: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.QUEUED, State.CANCELLED}),
    State.QUEUED: frozenset({State.SENDING, State.CANCELLED}),
    State.SENDING: frozenset({State.SENT}),
    State.SENT: frozenset(),
    State.CANCELLED: frozenset(),
}

ERROR_TRANSITION = _("The campaign cannot move from “%(old)s” to “%(new)s”.")
ERROR_NOT_DRAFT = _("Only a draft campaign can be changed.")
ERROR_NO_LANGUAGE = _("Write the subject and the message in at least one language.")
ERROR_HALF_LANGUAGE = _("Write both the subject and the message in this language, or neither.")
ERROR_NOBODY = _("Nobody in the segment can receive the campaign.")
ERROR_NO_OWN_EMAIL = _("Your user account has no e-mail address for a test message.")
ERROR_SEGMENT_REGISTER = _("The segment belongs to another register.")

EDITABLE_FIELDS = (
    "name",
    "segment",
    "audience",
    "subject_fi",
    "body_fi",
    "subject_sv",
    "body_sv",
    "subject_en",
    "body_en",
    "rate_per_minute",
)


def campaign_transition(*, campaign: Campaign, to: str, actor) -> Campaign:
    """Move the campaign to state `to`, or raise ValidationError for a move the table does not allow."""
    if to not in TRANSITIONS[campaign.state]:
        raise ValidationError(
            ERROR_TRANSITION,
            code="transition",
            params={"old": State(campaign.state).label, "new": State(to).label},
        )
    campaign.state = to
    fields = ["state", "updated_at"]
    if to == State.SENT:
        campaign.finished_at = timezone.now()
        fields.append("finished_at")
    with set_actor(actor):
        campaign.save(update_fields=fields)
    return campaign


def _apply(campaign: Campaign, data: dict[str, Any]) -> None:
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(campaign, name, data[name])
    errors = {}
    for language in audiences.LANGUAGES:
        subject = getattr(campaign, f"subject_{language}").strip()
        body = getattr(campaign, f"body_{language}").strip()
        if bool(subject) != bool(body):
            errors[f"body_{language}" if subject else f"subject_{language}"] = ERROR_HALF_LANGUAGE
    if not errors and not audiences.campaign_languages(campaign):
        errors["subject_fi"] = ERROR_NO_LANGUAGE
    if campaign.segment is not None and campaign.segment.register_id != campaign.register_id:
        errors["segment"] = ERROR_SEGMENT_REGISTER
    if errors:
        raise ValidationError(errors)
    campaign.full_clean()


@transaction.atomic
def campaign_create(*, actor, register: Register, data: dict[str, Any]) -> Campaign:
    """Write a draft campaign for the register."""
    campaign = Campaign(register=register, created_by=actor)
    _apply(campaign, data)
    with set_actor(actor):
        campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Change a draft campaign's texts, segment, audience or rate."""
    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if current.state != State.DRAFT:
        raise ValidationError(ERROR_NOT_DRAFT, code="not_draft")
    _apply(current, data)
    with set_actor(actor):
        current.save()
    return current


@transaction.atomic
def campaign_cancel(*, actor, campaign: Campaign) -> Campaign:
    """Cancel a draft or a queued campaign; its queued messages are never sent."""
    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign_transition(campaign=current, to=State.CANCELLED, actor=actor)
    CampaignRecipient.objects.filter(campaign=current, state=CampaignRecipient.State.QUEUED).update(
        state=CampaignRecipient.State.SKIPPED, skip_reason="cancelled"
    )
    return current


def campaign_test_send(*, actor, campaign: Campaign) -> int:
    """Send the campaign to the actor's own address, once in each of its languages; return how many were sent."""
    from .sending import test_messages_send

    if not (actor.email or "").strip():
        raise ValidationError(ERROR_NO_OWN_EMAIL, code="no_email")
    return test_messages_send(campaign=campaign, to=actor.email.strip())


@transaction.atomic
def campaign_queue(*, actor, campaign: Campaign) -> Campaign:
    """Freeze the audience into recipient rows, store who was left out and why, and start the send.

    The rows are created in batches of bulk inserts (one per 2,000 recipients), the counts in one query.
    """
    current = Campaign.objects.select_for_update(of=("self",)).select_related("register", "segment").get(pk=campaign.pk)
    if current.state != State.DRAFT:
        raise ValidationError(ERROR_NOT_DRAFT, code="not_draft")
    counted = audiences.audience_count(user=actor, campaign=current)
    rows = audiences.audience_rows(user=actor, campaign=current)
    if not rows:
        raise ValidationError(ERROR_NOBODY, code="nobody")
    CampaignRecipient.objects.bulk_create(
        (CampaignRecipient(campaign=current, **row) for row in rows), batch_size=2000, ignore_conflicts=True
    )
    exclusions = dict(counted.exclusions)
    current.exclusions = exclusions
    current.queued_by = actor
    current.queued_at = timezone.now()
    with set_actor(actor):
        current.save(update_fields=["exclusions", "queued_by", "queued_at", "updated_at"])
    campaign_transition(campaign=current, to=State.QUEUED, actor=actor)
    transaction.on_commit(lambda: _send_later(current.pk))
    return current


def _send_later(pk: int) -> None:
    from .tasks import campaign_send

    campaign_send.delay(pk)


def send_batch_size() -> int:
    return max(1, settings.CAMPAIGN_SEND_BATCH)
