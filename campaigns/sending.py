"""Sending a queued campaign: in batches, at the campaign's rate, each message at most once.

A batch of `settings.CAMPAIGN_SEND_BATCH` queued recipients is taken with `SELECT ... FOR UPDATE SKIP LOCKED`,
marked `sending` and committed; each recipient's objection and restriction are read again (an objection given
after the campaign was queued stops the message: `skipped`, reason `objection`); the messages go over one SMTP
connection; the batch is then marked `sent` with an outgoing e-mail on each recipient's timeline, and committed.

At most once, not at least once. A worker killed between the two commits leaves one batch in `sending` whose
messages may or may not have left. Those rows are never sent again: the next run (the task again, or the beat's
`campaigns_resume`) takes the campaign's lock, and a row still `sending` while nobody else holds that lock is
one whose worker died, so it is marked `failed` with reason `unknown_outcome` and shown to the sender, who can
judge whether to write to those few people. Sending twice would be a second unasked-for marketing message; not
sending is the safe side of an objection-honouring channel. Rows still `queued` are sent by the next run.

Two workers never send one campaign at once: a lock per campaign (archive.imap.process_lock: a PostgreSQL
session advisory lock that a killed worker's connection takes with it, or a cache lock without PostgreSQL).
"""

import logging
import smtplib
import time
import zlib
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from archive.imap import process_lock
from crm.models import ContactPerson, Customer, Interaction

from .audience import LANGUAGES, campaign_languages, recipient_language
from .models import BounceMailbox, Campaign, CampaignRecipient

logger = logging.getLogger(__name__)

_LOCK_NAMESPACE = zlib.crc32(b"campaigns.campaign_send") & 0x7FFFFFFF
# Without PostgreSQL: the cache lock lasts this long unless the sender renews it after each batch.
_CACHE_LOCK_SECONDS = 300
LINK_SALT = "campaigns.unsubscribe"
RECIPIENT_HEADER = "X-Rekisteri-Recipient"
UNKNOWN_OUTCOME = "unknown_outcome"
SMTP_REFUSED = "smtp_refused"
SKIP_OBJECTION = "objection"
SKIP_RESTRICTED = "restricted"
SKIP_BOUNCED = "bounced"

R = CampaignRecipient.State


def unsubscribe_token(recipient: CampaignRecipient) -> str:
    """The signed token of the recipient's one-click link (the recipient's UUID, signed with a salt of its own)."""
    return signing.Signer(salt=LINK_SALT).sign(recipient.token.hex)


def unsubscribe_recipient(token: str) -> CampaignRecipient | None:
    """The recipient a one-click token names, or None for a tampered or unknown token."""
    try:
        value = signing.Signer(salt=LINK_SALT).unsign(token)
        return CampaignRecipient.objects.select_related("campaign__register__organisation").get(token=value)
    except (signing.BadSignature, CampaignRecipient.DoesNotExist, ValueError, TypeError):
        return None


def unsubscribe_url(recipient: CampaignRecipient) -> str:
    return settings.SITE_URL + reverse("campaigns:unsubscribe", args=[unsubscribe_token(recipient)])


def _message_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def message_subject(*, campaign: Campaign, language: str) -> str:
    language = recipient_language(language, campaign_languages(campaign))
    return " ".join(getattr(campaign, f"subject_{language}").split())


def message_render(*, campaign: Campaign, language: str, link: str) -> tuple[str, str]:
    """Return (subject, text) of the campaign in `language` with the one-click link's footer."""
    subject = message_subject(campaign=campaign, language=language)
    language = recipient_language(language, campaign_languages(campaign))
    with translation.override(language):
        body = render_to_string(
            "campaigns/emails/campaign_body.txt",
            {
                "body": getattr(campaign, f"body_{language}"),
                "link": link,
                "organisation": campaign.register.organisation,
                "register": campaign.register,
            },
        )
    return subject, body


def campaign_preview(campaign: Campaign) -> list[dict]:
    """The campaign as each of its languages' recipients would read it (with a link that leads nowhere)."""
    example = settings.SITE_URL + reverse("campaigns:unsubscribe", args=["example"])
    previews = []
    for language in campaign_languages(campaign):
        subject, body = message_render(campaign=campaign, language=language, link=example)
        previews.append({"language": language, "subject": subject, "body": body})
    return previews


def _envelope_sender(campaign: Campaign) -> str:
    mailbox = BounceMailbox.objects.filter(organisation_id=campaign.register.organisation_id, enabled=True).first()
    return mailbox.address if mailbox is not None else settings.DEFAULT_FROM_EMAIL


def _message(*, campaign: Campaign, recipient: CampaignRecipient, sender: str) -> EmailMessage:
    link = unsubscribe_url(recipient)
    subject, body = message_render(campaign=campaign, language=recipient.language, link=link)
    recipient.message_id = make_msgid(idstring=recipient.token.hex, domain=_message_domain())
    headers = {
        # The header From: the envelope sender (Return-Path) is the bounce mailbox's address when there is one.
        "From": settings.DEFAULT_FROM_EMAIL,
        "Message-ID": recipient.message_id,
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        RECIPIENT_HEADER: recipient.token.hex,
        "Auto-Submitted": "auto-generated",
        "Precedence": "bulk",
    }
    return EmailMessage(subject, body, sender, [recipient.email], headers=headers)


def test_messages_send(*, campaign: Campaign, to: str) -> int:
    """Send the campaign to one address in each of its languages, marked as a test; no row, no timeline."""
    messages = []
    for language in campaign_languages(campaign) or LANGUAGES[:1]:
        probe = CampaignRecipient(campaign=campaign, email=to, language=language)
        message = _message(campaign=campaign, recipient=probe, sender=settings.DEFAULT_FROM_EMAIL)
        message.subject = f"[TEST] {message.subject}"
        messages.append(message)
    with get_connection() as mail:
        return mail.send_messages(messages) or 0


def _fresh_blocks(batch: list[CampaignRecipient]) -> dict[int, str]:
    """Recipient pk → reason to leave them out now: an objection or restriction given after queuing (2 queries)."""
    customers = {
        row["pk"]: row
        for row in Customer.objects.filter(pk__in={r.customer_id for r in batch}).values(
            "pk", "marketing_objection", "processing_restricted", "email_bounced_at"
        )
    }
    persons = {
        row["pk"]: row
        for row in ContactPerson.objects.filter(
            pk__in={r.contact_person_id for r in batch if r.contact_person_id}
        ).values("pk", "marketing_objection", "email_bounced_at")
    }
    blocked = {}
    for recipient in batch:
        customer = customers.get(recipient.customer_id)
        person = persons.get(recipient.contact_person_id) if recipient.contact_person_id else None
        gone = customer is None or (recipient.contact_person_id and person is None)
        if gone or customer["marketing_objection"] or (person and person["marketing_objection"]):
            blocked[recipient.pk] = SKIP_OBJECTION
        elif customer["processing_restricted"]:
            blocked[recipient.pk] = SKIP_RESTRICTED
        elif (person or customer)["email_bounced_at"] is not None:
            blocked[recipient.pk] = SKIP_BOUNCED
    return blocked


def _batch_take(campaign: Campaign, size: int) -> list[CampaignRecipient]:
    with transaction.atomic():
        batch = list(
            CampaignRecipient.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, state=R.QUEUED)
            .order_by("pk")[:size]
        )
        if batch:
            CampaignRecipient.objects.filter(pk__in=[r.pk for r in batch]).update(state=R.SENDING)
    return batch


def _batch_send(campaign: Campaign, batch: list[CampaignRecipient], sender: str, mail) -> dict:
    """Send a batch taken as `sending`; record what became of each row. Raises on a broken SMTP connection."""
    blocked = _fresh_blocks(batch)
    sent, failed, error = [], [], None
    pending = [recipient for recipient in batch if recipient.pk not in blocked]
    for index, recipient in enumerate(pending):
        message = _message(campaign=campaign, recipient=recipient, sender=sender)
        try:
            mail.send_messages([message])
        except smtplib.SMTPRecipientsRefused:
            failed.append(recipient)
            continue
        except (smtplib.SMTPException, OSError) as problem:
            # The connection broke: this message's fate is unknown (failed, not sent again); the rest of the
            # batch was never handed over, so it goes back to the queue for the next run.
            failed.append(recipient)
            error = (problem, pending[index + 1 :])
            break
        recipient.sent_at = timezone.now()
        sent.append(recipient)
    with transaction.atomic():
        interactions = Interaction.objects.bulk_create(
            Interaction(
                customer_id=r.customer_id,
                contact_person_id=r.contact_person_id,
                kind=Interaction.Kind.EMAIL_OUT,
                occurred_at=r.sent_at,
                subject=message_subject(campaign=campaign, language=r.language)[:200],
                text=campaign.name,
                staff_user_id=campaign.queued_by_id,
            )
            for r in sent
        )
        for recipient, interaction in zip(sent, interactions, strict=True):
            recipient.state = R.SENT
            recipient.interaction = interaction
        CampaignRecipient.objects.bulk_update(sent, ["state", "sent_at", "message_id", "interaction"])
        for reason in (SKIP_OBJECTION, SKIP_RESTRICTED, SKIP_BOUNCED):
            pks = [pk for pk, why in blocked.items() if why == reason]
            if pks:
                CampaignRecipient.objects.filter(pk__in=pks).update(state=R.SKIPPED, skip_reason=reason)
        if failed:
            CampaignRecipient.objects.filter(pk__in=[r.pk for r in failed]).update(
                state=R.FAILED, skip_reason=SMTP_REFUSED
            )
        if error is not None and error[1]:
            CampaignRecipient.objects.filter(pk__in=[r.pk for r in error[1]]).update(state=R.QUEUED)
        Campaign.objects.filter(pk=campaign.pk).update(
            sent_count=F("sent_count") + len(sent), skipped_count=F("skipped_count") + len(blocked)
        )
    if error is not None:
        raise error[0]
    return {"sent": len(sent), "skipped": len(blocked), "failed": len(failed)}


def _lock(campaign_pk: int):
    return process_lock(
        _LOCK_NAMESPACE,
        campaign_pk,
        cache_key=f"campaigns:send:{campaign_pk}",
        cache_seconds=_CACHE_LOCK_SECONDS,
    )


def campaign_send_run(campaign_pk: int, *, sleep=time.sleep, clock=time.monotonic) -> dict:
    """Send what is queued of the campaign, at its rate; return counts, or {"busy": True} if another run sends it."""
    from .services import campaign_transition, send_batch_size

    totals = {"sent": 0, "skipped": 0, "failed": 0, "unknown": 0}
    with _lock(campaign_pk) as held:
        if not held:
            logger.info("Campaign %s is being sent by another worker; skipped.", campaign_pk)
            return {**totals, "busy": True}
        campaign = Campaign.objects.select_related("register__organisation").filter(pk=campaign_pk).first()
        if campaign is None or campaign.state not in (Campaign.State.QUEUED, Campaign.State.SENDING):
            return totals
        if campaign.state == Campaign.State.QUEUED:
            with transaction.atomic():
                # Locked against a cancel arriving at the same moment: one of the two wins.
                current = Campaign.objects.select_for_update().get(pk=campaign.pk)
                if current.state != Campaign.State.QUEUED:
                    return totals
                campaign_transition(campaign=current, to=Campaign.State.SENDING, actor=None)
                campaign.state = current.state
        # Nobody else holds the lock, so a row still `sending` belongs to a worker that died mid-batch.
        totals["unknown"] = CampaignRecipient.objects.filter(campaign=campaign, state=R.SENDING).update(
            state=R.FAILED, skip_reason=UNKNOWN_OUTCOME
        )
        if totals["unknown"]:
            logger.warning("Campaign %s: %s messages of a killed send marked failed.", campaign.pk, totals["unknown"])
        sender = _envelope_sender(campaign)
        size = min(send_batch_size(), campaign.rate_per_minute)
        interval = 60.0 / campaign.rate_per_minute
        started, handed = clock(), 0
        queued = CampaignRecipient.objects.filter(campaign=campaign, state=R.QUEUED)
        with get_connection() as mail:
            while True:
                batch = _batch_take(campaign, size)
                if not batch:
                    break
                counts = _batch_send(campaign, batch, sender, mail)
                handed += counts["sent"] + counts["failed"]
                for name in ("sent", "skipped", "failed"):
                    totals[name] += counts[name]
                if connection.vendor != "postgresql":
                    cache.touch(f"campaigns:send:{campaign_pk}", _CACHE_LOCK_SECONDS)
                if not queued.exists():
                    break
                # The rate: the next batch leaves no earlier than the messages so far allow.
                wait = started + handed * interval - clock()
                if wait > 0:
                    sleep(wait)
        if not CampaignRecipient.objects.filter(campaign=campaign, state__in=[R.QUEUED, R.SENDING]).exists():
            with transaction.atomic():
                campaign.refresh_from_db()
                if campaign.state == Campaign.State.SENDING:
                    campaign_transition(campaign=campaign, to=Campaign.State.SENT, actor=None)
    return totals


def campaigns_to_resume() -> list[int]:
    """Campaigns queued or being sent: the beat runs each again (a run that finds it locked does nothing)."""
    return list(
        Campaign.objects.filter(state__in=[Campaign.State.QUEUED, Campaign.State.SENDING])
        .values_list("pk", flat=True)
        .order_by("pk")
    )
