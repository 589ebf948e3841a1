"""Putting messages into the contact-centre archive: the one path every intake goes through.

`messages_archive` takes a batch (a mailbox's fetch, an mbox's chunk) and `message_archive` one message.
Idempotent by the message's Message-ID plus the SHA-256 of its raw bytes: a re-run, a crash between fetch and
commit, or two workers reading one folder at once leave one row, and the database's unique constraint decides
a race. A message that cannot be parsed is archived raw and flagged.

A batch costs a constant number of queries whatever its size (two look-ups, then one insert each of messages,
attachments and audit entries), so a mailbox of ten thousand messages is read in a hundred round trips, not in
sixty thousand. The audit entries are written with the batch, as the imports write theirs: bulk inserts send
no signals, so django-auditlog would not.
"""

import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.mail import ParsedMessage, parse, raw_sha256, thread_key
from crm.models import ContactCentreMessage, MessageAttachment, OrderingClient
from registers.audit_chain import chained_bulk_create
from registers.audit_scope import REGISTER_KEY
from registers.sealing import seal

logger = logging.getLogger(__name__)


@dataclass
class Incoming:
    """A raw message as an intake received it."""

    raw: bytes
    direction: str
    received_at: object = None


@dataclass
class Archived:
    message: ContactCentreMessage
    created: bool


@dataclass
class _Prepared:
    incoming: Incoming
    sha: str
    parsed: ParsedMessage

    @property
    def key(self) -> tuple[str, str]:
        return self.parsed.message_id, self.sha


def _delete_files(messages: list[ContactCentreMessage], attachments: list[MessageAttachment]) -> None:
    for stored in [m.raw for m in messages] + [a.file for a in attachments]:
        if stored:
            stored.storage.delete(stored.name)


def _archived_already(ordering_client: OrderingClient, prepared: list[_Prepared]) -> dict:
    shas = {item.sha for item in prepared}
    rows = ContactCentreMessage.objects.filter(ordering_client=ordering_client, raw_sha256__in=shas)
    return {(row.internet_message_id, row.raw_sha256): row for row in rows}


def _conversations(ordering_client: OrderingClient, prepared: list[_Prepared]) -> dict[str, str]:
    # A reply whose References were lost joins the conversation of the message it answers, when archived.
    roots = {item.parsed.thread_root for item in prepared} - {""}
    if not roots:
        return {}
    rows = (
        ContactCentreMessage.objects.filter(ordering_client=ordering_client, internet_message_id__in=roots)
        .exclude(thread_key="")
        .values_list("internet_message_id", "thread_key")
    )
    return dict(rows)


def _message(item: _Prepared, ordering_client: OrderingClient, intake: str, conversations: dict) -> tuple:
    parsed = item.parsed
    message = ContactCentreMessage(
        register_id=ordering_client.register_id,
        ordering_client=ordering_client,
        direction=item.incoming.direction,
        intake=intake,
        sender=parsed.sender,
        recipient=parsed.recipient,
        cc=parsed.cc,
        subject=parsed.subject,
        body=parsed.body,
        html_body=parsed.html_body,
        sent_at=parsed.sent_at,
        internet_message_id=parsed.message_id,
        raw_sha256=item.sha,
        raw_size=len(item.incoming.raw),
        unreadable=parsed.unreadable,
        identity_codes_masked=parsed.identity_codes_masked,
    )
    root = parsed.thread_root
    message.thread_key = conversations.get(root) or thread_key(root or str(message.code))
    if parsed.message_id:
        # A later message of the same batch may answer this one.
        conversations.setdefault(parsed.message_id, message.thread_key)
    # The files go to the storage first: a row never points at a file that is not there. A file left by a
    # batch that did not commit is sealed and named by no row; `manage.py archive_files_sweep` removes it.
    message.raw.save("original", ContentFile(seal(item.incoming.raw)), save=False)
    attachments = []
    for part in parsed.attachments:
        attachment = MessageAttachment(
            message=message,
            filename=part.filename,
            declared_type=part.declared_type[:255],
            content_type=part.content_type[:255],
            size=len(part.data),
            sha256=raw_sha256(part.data),
        )
        attachment.file.save("attachment", ContentFile(seal(part.data)), save=False)
        attachments.append(attachment)
    return message, attachments


def _audit_entries(rows: list, actor) -> list[LogEntry]:
    content_types = ContentType.objects.get_for_models(*{type(row) for row in rows})
    use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    now, cid = timezone.now(), get_cid()
    return [
        LogEntry(
            content_type=content_types[type(row)],
            object_pk=str(row.pk),
            object_id=row.pk,
            object_repr=str(row),
            action=LogEntry.Action.CREATE,
            # The registry's field list: the trail records that a message came, not its text again.
            changes=model_instance_diff(None, row, use_json_for_changes=use_json),
            changes_text="",
            actor=actor,
            actor_email=getattr(actor, "email", None),
            timestamp=now,
            cid=cid,
            additional_data={REGISTER_KEY: row.get_additional_data()[REGISTER_KEY]},
        )
        for row in rows
    ]


def messages_archive(
    *, incoming: list[Incoming], ordering_client: OrderingClient, intake: str, actor=None
) -> list[Archived]:
    """Archive a batch of raw messages for the ordering client; return each one's row, in the given order.

    Run it inside the caller's transaction to make the batch and the caller's own bookkeeping (a mailbox
    folder's last UID) one unit.
    """
    prepared = [
        _Prepared(item, raw_sha256(item.raw), parse(item.raw, received_at=item.received_at)) for item in incoming
    ]
    known = _archived_already(ordering_client, prepared)
    conversations = _conversations(ordering_client, prepared)
    results, new_messages, new_attachments = [], [], []
    for item in prepared:
        if item.key in known:
            results.append(Archived(known[item.key], created=False))
            continue
        message, attachments = _message(item, ordering_client, intake, conversations)
        # The same message twice in one batch (a mailbox may hold copies) is archived once.
        known[item.key] = message
        results.append(Archived(message, created=True))
        new_messages.append(message)
        new_attachments.extend(attachments)
    if not new_messages:
        return results
    try:
        with transaction.atomic():
            ContactCentreMessage.objects.bulk_create(new_messages)
            for attachment in new_attachments:
                attachment.message_id = attachment.message.pk
            MessageAttachment.objects.bulk_create(new_attachments)
            chained_bulk_create(LogEntry, _audit_entries([*new_messages, *new_attachments], actor))
    except IntegrityError:
        # Another worker archived one of these messages between the look-up and the insert: one at a time, each
        # finds the other worker's row.
        _delete_files(new_messages, new_attachments)
        if len(incoming) == 1:
            existing = _archived_already(ordering_client, prepared).get(prepared[0].key)
            if existing is None:
                raise
            return [Archived(existing, created=False)]
        return [
            messages_archive(incoming=[item], ordering_client=ordering_client, intake=intake, actor=actor)[0]
            for item in incoming
        ]
    for message in new_messages:
        if message.unreadable:
            logger.warning("Message %s could not be parsed and was archived raw.", message.code)
    return results


def message_archive(
    *, raw: bytes, ordering_client: OrderingClient, direction: str, intake: str, received_at=None, actor=None
) -> Archived:
    """Archive one raw message for the ordering client, or return the row that already holds it."""
    incoming = [Incoming(raw=raw, direction=direction, received_at=received_at)]
    return messages_archive(incoming=incoming, ordering_client=ordering_client, intake=intake, actor=actor)[0]


@dataclass
class IntakeCounts:
    """What an intake did with the messages it read: counts only, never content."""

    archived: int = 0
    already: int = 0
    unreadable: int = 0
    # The first messages' codes, for a result page to link them.
    codes: list[str] = field(default_factory=list)

    LINKED_MAX = 200

    @property
    def total(self) -> int:
        return self.archived + self.already + self.unreadable

    def count(self, result: Archived) -> None:
        if not result.created:
            self.already += 1
        elif result.message.unreadable:
            self.unreadable += 1
        else:
            self.archived += 1
        if len(self.codes) < self.LINKED_MAX:
            self.codes.append(str(result.message.code))


def raw_messages_archive(
    *, raws: Iterable[bytes], ordering_client: OrderingClient, direction: str, intake: str, actor=None
) -> IntakeCounts:
    """Archive a stream of raw messages (an uploaded .mbox) in batches of ARCHIVE_FETCH_BATCH; return the counts.

    Each batch commits on its own, so a failure part-way keeps what was archived before it, and archiving the
    same file again adds only what is missing.
    """
    counts = IntakeCounts()
    raws = iter(raws)
    while batch := list(itertools.islice(raws, max(1, settings.ARCHIVE_FETCH_BATCH))):
        incoming = [Incoming(raw=raw, direction=direction) for raw in batch]
        for result in messages_archive(incoming=incoming, ordering_client=ordering_client, intake=intake, actor=actor):
            counts.count(result)
    return counts
