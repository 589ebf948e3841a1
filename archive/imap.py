"""Reading an ordering client's mailbox over IMAP into the contact-centre archive (issue 17).

The poller never changes a mailbox unless it is told to move archived messages to a folder: folders are
opened read-only and messages are fetched with BODY.PEEK[], which leaves \\Seen alone. How far a folder has
been read is kept per folder as (UIDVALIDITY, last UID); UIDs mean nothing under another UIDVALIDITY, so a
change reads the folder again from the start and the archive's idempotency (Message-ID plus the hash of the
raw message) absorbs what was archived already. A batch is archived in one transaction with the advance of
the folder's last UID, so a crash re-reads at most that batch.

Two workers polling one mailbox at once are serialised by a lock per mailbox (`_mailbox_lock`); the
archive's unique constraint is the final guard either way.
"""

import contextlib
import ipaddress
import logging
import socket
import ssl
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from archive.models import Mailbox, MailboxFolder
from archive.services import Incoming, messages_archive
from crm.models import ContactCentreMessage
from registers.sealing import SealBrokenError

logger = logging.getLogger(__name__)

# The namespace of the session-level advisory locks held while a mailbox is read (PostgreSQL's two-key form,
# which does not overlap the one-key locks used elsewhere).
_LOCK_NAMESPACE = zlib.crc32(b"archive.mailbox_poll") & 0x7FFFFFFF
# Without PostgreSQL (the quick start, one process): a cache lock that frees itself after a killed poll.
_CACHE_LOCK_SECONDS = 3600


@dataclass
class PollResult:
    fetched: int = 0
    archived: int = 0
    skipped: int = 0
    errors: int = 0
    # Another worker was reading the mailbox, so this poll did nothing.
    busy: bool = False
    # [{"problem": Mailbox.Problem, "folder": ...}], as Mailbox.last_problems stores them.
    problems: list[dict] = field(default_factory=list)


class _PollError(Exception):
    """A reason that ends the poll of a mailbox or of a folder (a Mailbox.Problem and its folder)."""

    def __init__(self, problem: str, *, folder: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.folder = folder


# The campaigns' bounce reader catches the same reasons.
PollError = _PollError


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def imap_connect(server) -> IMAPClient:
    """Open an IMAP connection to `server` (anything with host, port and security as a Mailbox has them).

    Shared with the campaigns' bounce reader (campaigns.bounces). A connection without encryption is refused
    unless the server is on this machine.
    """
    timeout = settings.ARCHIVE_IMAP_TIMEOUT
    if server.security == Mailbox.Security.PLAIN and not _is_loopback(server.host):
        raise _PollError(Mailbox.Problem.PLAIN_REMOTE)
    if server.security == Mailbox.Security.TLS:
        client = IMAPClient(
            server.host, port=server.port, ssl=True, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        client = IMAPClient(server.host, port=server.port, ssl=False, timeout=timeout)
        if server.security == Mailbox.Security.STARTTLS:
            client.starttls(ssl.create_default_context())
    # imaplib's trace would log every line the server sends, message content included.
    with contextlib.suppress(AttributeError):
        client._imap.debug = 0
    # Timezone-aware INTERNALDATEs.
    client.normalise_times = False
    return client


_connect = imap_connect


@contextlib.contextmanager
def _mailbox_lock(mailbox: Mailbox):
    """Yield whether this process may read the mailbox now; at most one process at a time does."""
    with process_lock(_LOCK_NAMESPACE, mailbox.pk, cache_key=f"archive:mailbox-poll:{mailbox.pk}") as held:
        yield held


@contextlib.contextmanager
def process_lock(namespace: int, pk: int, *, cache_key: str, cache_seconds: int = _CACHE_LOCK_SECONDS):
    """Yield whether this process holds the lock (namespace, pk) now; at most one process at a time does.

    Shared with the campaigns (campaigns.sending, campaigns.bounces), each with a namespace of its own.
    """
    if connection.vendor == "postgresql":
        # A session-level advisory lock, not a row lock in a transaction: the poll commits batch by batch, so
        # no transaction lasts as long as the poll, and the server frees the lock the moment the holder's
        # connection ends, so a killed worker never keeps a mailbox locked.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, pk])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, pk])
        return
    held = cache.add(cache_key, 1, cache_seconds)
    try:
        yield held
    finally:
        if held:
            cache.delete(cache_key)


def _move(client: IMAPClient, uids: list[int], folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    # Without UIDPLUS an EXPUNGE would also remove what the mailbox's users marked deleted themselves: the
    # copies stay marked \Deleted for their mail program to remove.


def _folder_poll(client: IMAPClient, mailbox: Mailbox, folder: str, direction: str, result: PollResult) -> None:
    moving = bool(mailbox.processed_folder)
    try:
        selected = client.select_folder(folder, readonly=not moving)
    except IMAPClientError as error:
        raise _PollError(Mailbox.Problem.FOLDER_MISSING, folder=folder) from error
    uid_validity = int(selected[b"UIDVALIDITY"])
    state, _created = MailboxFolder.objects.get_or_create(mailbox=mailbox, name=folder)
    if state.uid_validity != uid_validity:
        # The server renumbered the folder: read it all again; idempotency keeps one row per message.
        state.uid_validity, state.last_uid = uid_validity, 0
        state.save(update_fields=["uid_validity", "last_uid", "updated_at"])
    # "n:*" also matches the highest UID when it is below n, hence the filter.
    uids = sorted(uid for uid in client.search(["UID", f"{state.last_uid + 1}:*"]) if uid > state.last_uid)
    batch_size = max(1, settings.ARCHIVE_FETCH_BATCH)
    for start in range(0, len(uids), batch_size):
        batch = uids[start : start + batch_size]
        fetched = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
        try:
            # One transaction per batch: one commit instead of several per message, and a batch is archived
            # whole or not at all. The files of a batch that did not commit are named by no row;
            # `manage.py archive_files_sweep` removes them.
            with transaction.atomic():
                counts = _batch_archive(mailbox, direction, batch, fetched)
                if not mailbox.processed_folder:
                    _last_uid_advance(state, batch)
        except Exception as error:
            # A database or storage failure, or a FETCH answer without the message: the batch is rolled back
            # and its UIDs stay unread, so the next poll tries them again instead of leaving them out.
            logger.error(
                "Mailbox %s folder %s: UIDs %s-%s could not be archived (%s).",
                mailbox.pk,
                folder,
                batch[0],
                batch[-1],
                type(error).__name__,
            )
            raise _PollError(Mailbox.Problem.ARCHIVE) from error
        result.fetched += counts[0]
        result.archived += counts[1]
        result.skipped += counts[2]
        if mailbox.processed_folder:
            # Moved only once archived and committed; the last UID only once moved, so a failed move is
            # tried again on the next poll (the archive already holds the messages then).
            try:
                _move(client, batch, mailbox.processed_folder)
            except IMAPClientError as error:
                raise _PollError(Mailbox.Problem.MOVE, folder=mailbox.processed_folder) from error
            _last_uid_advance(state, batch)


def _batch_archive(mailbox: Mailbox, direction: str, batch: list[int], fetched: dict) -> tuple[int, int, int]:
    """Archive the fetched messages of a batch; return how many were fetched, new and archived already."""
    incoming = [
        Incoming(raw=data[b"BODY[]"], direction=direction, received_at=data.get(b"INTERNALDATE"))
        for data in (fetched.get(uid) for uid in batch)
        # None: expunged by someone else between SEARCH and FETCH, nothing to archive.
        if data is not None
    ]
    if not incoming:
        return 0, 0, 0
    results = messages_archive(
        incoming=incoming, ordering_client=mailbox.ordering_client, intake=ContactCentreMessage.Intake.MAILBOX
    )
    created = sum(1 for result in results if result.created)
    return len(results), created, len(results) - created


def _last_uid_advance(state: MailboxFolder, batch: list[int]) -> None:
    state.last_uid = max(batch)
    state.save(update_fields=["last_uid", "updated_at"])


def _login(client: IMAPClient, mailbox: Mailbox) -> None:
    imap_login(client, mailbox.username, mailbox.password())


def imap_login(client: IMAPClient, username: str, password: str) -> None:
    """Log in with LOGIN, or SASL PLAIN when the user name or password is not ASCII (shared with campaigns)."""
    if (username + password).isascii():
        client.login(username, password)
    elif client.has_capability("AUTH=PLAIN"):
        # LOGIN carries ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
        client.plain_login(username, password)
    else:
        raise _PollError(Mailbox.Problem.LOGIN)


def problem_reason(error: BaseException) -> dict:
    """Return {"problem": Mailbox.Problem[, "folder": ...]} for an error of a mailbox read (shared with campaigns)."""
    return _reason(error)


def _reason(error: BaseException) -> dict:
    if isinstance(error, _PollError):
        return {"problem": error.problem, "folder": error.folder} if error.folder else {"problem": error.problem}
    if isinstance(error, LoginError):
        problem = Mailbox.Problem.LOGIN
    elif isinstance(error, socket.timeout | TimeoutError):
        problem = Mailbox.Problem.TIMEOUT
    elif isinstance(error, ssl.SSLError | ssl.CertificateError):
        problem = Mailbox.Problem.TLS
    elif isinstance(error, SealBrokenError):
        problem = Mailbox.Problem.PASSWORD_UNREADABLE
    elif isinstance(error, OSError):
        problem = Mailbox.Problem.CONNECTION
    else:
        problem = Mailbox.Problem.PROTOCOL
    return {"problem": problem}


def mailbox_poll(mailbox: Mailbox) -> PollResult:
    """Archive the messages that came to the mailbox's folders since the last poll."""
    result = PollResult()
    with _mailbox_lock(mailbox) as held:
        if not held:
            result.busy = True
            logger.info("Mailbox %s is being read by another worker; skipped.", mailbox.pk)
            return result
        try:
            client = _connect(mailbox)
        except (_PollError, IMAPClientError, OSError) as error:
            _problem(mailbox, error, result)
        else:
            try:
                _login(client, mailbox)
                for folder, direction in mailbox.folders():
                    try:
                        _folder_poll(client, mailbox, folder, direction, result)
                    except _PollError as error:
                        # One folder's problem does not stop the other folder.
                        _problem(mailbox, error, result)
            except (IMAPClientError, OSError, SealBrokenError) as error:
                _problem(mailbox, error, result)
            finally:
                with contextlib.suppress(Exception):
                    client.logout()
        # Only the poller writes these fields, and the audit trail leaves them out (archive.apps).
        mailbox.last_polled_at = timezone.now()
        mailbox.last_problems = result.problems
        mailbox.save(update_fields=["last_polled_at", "last_problems", "updated_at"])
    return result


def _problem(mailbox: Mailbox, error: BaseException, result: PollResult) -> None:
    reason = _reason(error)
    result.errors += 1
    if reason not in result.problems:
        result.problems.append(reason)
    # The exception's class only: its text may quote the server, which may quote what it was sent.
    cause = error.__cause__ if isinstance(error, _PollError) and error.__cause__ else error
    logger.warning("Mailbox %s could not be read: %s (%s).", mailbox.pk, reason["problem"], type(cause).__name__)
