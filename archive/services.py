"""Putting messages into the contact-centre archive: one function every intake goes through.

`message_archive` is idempotent by the message's Message-ID plus the SHA-256 of its raw bytes: a re-run,
a crash between fetch and commit, or two workers reading one folder at once leave one row (the database's
unique constraint decides a race). A message that cannot be parsed is archived raw and flagged.
"""

import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from crm.mail import parse, raw_sha256, thread_key
from crm.models import ContactCentreMessage, MessageAttachment, OrderingClient
from registers.sealing import seal

logger = logging.getLogger(__name__)


@dataclass
class Archived:
    message: ContactCentreMessage
    created: bool


def _existing(ordering_client: OrderingClient, message_id: str, sha: str) -> ContactCentreMessage | None:
    return ContactCentreMessage.objects.filter(
        ordering_client=ordering_client, internet_message_id=message_id, raw_sha256=sha
    ).first()


def _thread_key(ordering_client: OrderingClient, root: str) -> str:
    # A reply whose References were lost joins the conversation of the message it answers, when archived.
    answered = (
        ContactCentreMessage.objects.filter(ordering_client=ordering_client, internet_message_id=root)
        .exclude(thread_key="")
        .values_list("thread_key", flat=True)
        .first()
    )
    return answered or thread_key(root)


def _delete_files(*files) -> None:
    for stored in files:
        if stored:
            stored.storage.delete(stored.name)


def message_archive(
    *, raw: bytes, ordering_client: OrderingClient, direction: str, intake: str, received_at=None
) -> Archived:
    """Archive one raw message for the ordering client, or return the row that already holds it."""
    sha = raw_sha256(raw)
    parsed = parse(raw, received_at=received_at)
    existing = _existing(ordering_client, parsed.message_id, sha)
    if existing is not None:
        return Archived(existing, created=False)
    message = ContactCentreMessage(
        register_id=ordering_client.register_id,
        ordering_client=ordering_client,
        direction=direction,
        intake=intake,
        sender=parsed.sender,
        recipient=parsed.recipient,
        cc=parsed.cc,
        subject=parsed.subject,
        body=parsed.body,
        html_body=parsed.html_body,
        sent_at=parsed.sent_at,
        internet_message_id=parsed.message_id,
        thread_key=_thread_key(ordering_client, parsed.thread_root) if parsed.thread_root else "",
        raw_sha256=sha,
        raw_size=len(raw),
        unreadable=parsed.unreadable,
        identity_codes_masked=parsed.identity_codes_masked,
    )
    # The files go to the storage first: a row never points at a file that is not there. A file left by a
    # row that did not commit is sealed and named by no row; `manage.py archive_files_sweep` removes it.
    message.raw.save("original", ContentFile(seal(raw)), save=False)
    attachments = []
    for part in parsed.attachments:
        attachment = MessageAttachment(
            filename=part.filename,
            declared_type=part.declared_type[:255],
            content_type=part.content_type[:255],
            size=len(part.data),
            sha256=raw_sha256(part.data),
        )
        attachment.file.save("attachment", ContentFile(seal(part.data)), save=False)
        attachments.append(attachment)
    try:
        with transaction.atomic():
            if not message.thread_key:
                message.thread_key = thread_key(str(message.code))
            message.save()
            for attachment in attachments:
                attachment.message = message
            MessageAttachment.objects.bulk_create(attachments)
    except IntegrityError:
        # Another worker archived the same message between the look-up and the insert.
        _delete_files(message.raw, *(attachment.file for attachment in attachments))
        existing = _existing(ordering_client, parsed.message_id, sha)
        if existing is None:
            raise
        return Archived(existing, created=False)
    if parsed.unreadable:
        logger.warning("Message %s could not be parsed and was archived raw: %s", message.code, parsed.problem)
    return Archived(message, created=True)
