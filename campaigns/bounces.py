"""Bounces: the reports that come back to a controller's bounce mailbox mark the address as undeliverable.

Every campaign message's envelope sender (Return-Path) is the controller's `BounceMailbox.address`, so the
receiving servers' delivery status notifications land there. The reader connects as the archive's poller does
(archive.imap: the same connection, login and lock code), opens the folder read-only, and reads what came since
the last UID under the folder's UIDVALIDITY. A report (RFC 3464 multipart/report) names the address in
`Final-Recipient`; only a permanent failure (`Action: failed`, status 5.x.x) counts. The returned original, or
its headers, carries the `X-Rekisteri-Recipient` header and the Message-ID the sender set, which name the
campaign recipient exactly; without them the `Final-Recipient` address alone is used.

A bounced address is marked on every person customer and contact person with that address in the controller's
customer registers (`email_bounced_at`); the campaigns leave it out until a new address is entered.
"""

import contextlib
import email
import logging
import re
import zlib
from dataclasses import dataclass, field
from email import policy

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone
from imapclient.exceptions import IMAPClientError

from archive.imap import PollError, imap_connect, imap_login, problem_reason, process_lock
from archive.models import Mailbox
from crm.models import ContactPerson, Customer
from registers.audit_context import set_actor
from registers.models import Register
from registers.sealing import SealBrokenError, unseal_text

from .models import BounceMailbox, CampaignRecipient
from .sending import RECIPIENT_HEADER

logger = logging.getLogger(__name__)

_LOCK_NAMESPACE = zlib.crc32(b"campaigns.bounces_read") & 0x7FFFFFFF
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Bounce:
    addresses: list[str] = field(default_factory=list)
    token: str = ""
    message_id: str = ""


@dataclass
class BounceResult:
    fetched: int = 0
    bounces: int = 0
    busy: bool = False
    problems: list[dict] = field(default_factory=list)


def _address(value: str) -> str:
    # "rfc822; someone@example.fi"
    value = (value or "").split(";", 1)[-1]
    return value.strip().strip("<>").strip().lower()


def _original_headers(part) -> email.message.Message | None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        payload = part.get_payload()
        return payload[0] if isinstance(payload, list) and payload else None
    if content_type == "text/rfc822-headers":
        return email.message_from_string(part.get_payload(decode=True).decode("utf-8", "replace"))
    return None


def bounce_parse(raw: bytes) -> Bounce | None:
    """Return the permanent failure a delivery report tells of, or None (a delay, a success, not a report)."""
    message = email.message_from_bytes(raw, policy=policy.compat32)
    if message.get_content_type() != "multipart/report":
        return None
    bounce = Bounce()
    failed = False
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                action = (block.get("Action") or "").strip().lower()
                status = (block.get("Status") or "").strip()
                if action == "failed" and status.startswith("5"):
                    failed = True
                    address = _address(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
                    if address and address not in bounce.addresses:
                        bounce.addresses.append(address)
        original = _original_headers(part)
        if original is not None:
            token = (original.get(RECIPIENT_HEADER) or "").strip().lower()
            if _TOKEN.match(token):
                bounce.token = token
            bounce.message_id = (original.get("Message-ID") or "").strip()
    return bounce if failed else None


@transaction.atomic
def bounce_record(*, mailbox: BounceMailbox, bounce: Bounce) -> int:
    """Mark the bounced address(es) in the controller's registers and the campaign recipient; return rows marked."""
    recipients = CampaignRecipient.objects.filter(campaign__register__organisation_id=mailbox.organisation_id)
    recipient = None
    if bounce.token:
        recipient = recipients.filter(token=bounce.token).first()
    if recipient is None and bounce.message_id:
        recipient = recipients.filter(message_id=bounce.message_id).first()
    addresses = {recipient.email} if recipient is not None else set(bounce.addresses)
    if recipient is not None and recipient.state == CampaignRecipient.State.SENT:
        recipient.state = CampaignRecipient.State.BOUNCED
        recipient.save(update_fields=["state"])
    elif recipient is None and addresses:
        # No header to go by: the latest message sent to the address.
        latest = recipients.filter(email__in=addresses, state=CampaignRecipient.State.SENT).order_by("-sent_at").first()
        if latest is not None:
            latest.state = CampaignRecipient.State.BOUNCED
            latest.save(update_fields=["state"])
    now = timezone.now()
    registers = Register.objects.filter(organisation_id=mailbox.organisation_id, kind=Register.Kind.CUSTOMER)
    upper = [address.upper() for address in addresses]
    marked = 0
    customers = Customer.objects.annotate(email_upper=Upper("email")).filter(
        register__in=registers, email_upper__in=upper, email_bounced_at__isnull=True
    )
    persons = ContactPerson.objects.annotate(email_upper=Upper("email")).filter(
        customer__register__in=registers, email_upper__in=upper, email_bounced_at__isnull=True
    )
    with set_actor(None):
        for row in [*customers, *persons]:
            row.email_bounced_at = now
            row.save(update_fields=["email_bounced_at", "updated_at"])
            marked += 1
    return marked


def bounce_mailbox_read(mailbox: BounceMailbox) -> BounceResult:
    """Read the reports that came to the bounce mailbox since the last read and record the bounces."""
    result = BounceResult()
    with process_lock(_LOCK_NAMESPACE, mailbox.pk, cache_key=f"campaigns:bounces:{mailbox.pk}") as held:
        if not held:
            result.busy = True
            return result
        try:
            client = imap_connect(mailbox)
        except (PollError, IMAPClientError, OSError) as error:
            _problem(mailbox, error, result)
        else:
            try:
                imap_login(client, mailbox.username, unseal_text(mailbox.sealed_password))
                _folder_read(client, mailbox, result)
            except (PollError, IMAPClientError, OSError, SealBrokenError) as error:
                _problem(mailbox, error, result)
            finally:
                with contextlib.suppress(Exception):
                    client.logout()
        mailbox.last_polled_at = timezone.now()
        mailbox.last_problems = result.problems
        mailbox.save(update_fields=["last_polled_at", "last_problems", "updated_at"])
    return result


def _folder_read(client, mailbox: BounceMailbox, result: BounceResult) -> None:
    try:
        selected = client.select_folder(mailbox.folder, readonly=True)
    except IMAPClientError as error:
        raise PollError(Mailbox.Problem.FOLDER_MISSING, folder=mailbox.folder) from error
    uid_validity = int(selected[b"UIDVALIDITY"])
    if mailbox.uid_validity != uid_validity:
        mailbox.uid_validity, mailbox.last_uid = uid_validity, 0
        mailbox.save(update_fields=["uid_validity", "last_uid", "updated_at"])
    uids = sorted(uid for uid in client.search(["UID", f"{mailbox.last_uid + 1}:*"]) if uid > mailbox.last_uid)
    batch_size = max(1, settings.ARCHIVE_FETCH_BATCH)
    for start in range(0, len(uids), batch_size):
        batch = uids[start : start + batch_size]
        fetched = client.fetch(batch, ["BODY.PEEK[]"])
        with transaction.atomic():
            for uid in batch:
                data = fetched.get(uid)
                if data is None:
                    continue
                result.fetched += 1
                bounce = bounce_parse(data[b"BODY[]"])
                if bounce is not None:
                    bounce_record(mailbox=mailbox, bounce=bounce)
                    result.bounces += 1
            mailbox.last_uid = max(batch)
            mailbox.save(update_fields=["last_uid", "updated_at"])


def _problem(mailbox: BounceMailbox, error: BaseException, result: BounceResult) -> None:
    reason = problem_reason(error)
    if reason not in result.problems:
        result.problems.append(reason)
    cause = error.__cause__ if isinstance(error, PollError) and error.__cause__ else error
    logger.warning("Bounce mailbox %s could not be read: %s (%s).", mailbox.pk, reason["problem"], type(cause).__name__)


def bounce_mailboxes_read() -> dict:
    results = {}
    for mailbox in BounceMailbox.objects.filter(enabled=True).order_by("pk"):
        try:
            results[mailbox.pk] = bounce_mailbox_read(mailbox)
        except Exception as error:
            logger.error("Bounce mailbox %s: the read failed (%s).", mailbox.pk, type(error).__name__)
    return {
        "mailboxes": len(results),
        "bounces": sum(result.bounces for result in results.values()),
        "problems": sum(len(result.problems) for result in results.values()),
    }
