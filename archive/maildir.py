"""Reading the server-side drop folder of mail: a Maildir per ordering client and direction (issue 17).

Layout: `<ARCHIVE_MAILDIR_ROOT>/<ordering client's code>/in/` for mail the clients sent and `.../out/` for the
answers, each a standard Maildir (new/, cur/, tmp/) that a mail server or a copy script fills. A message is
archived through `archive.services.message_archive`, then marked as read the standard way: moved to cur/ with
the S (seen) flag. Nothing is deleted. Messages in cur/ without the flag are read too: a mail client may have
moved them there. A crash between the archiving and the move only means the message is read again at the next
run, and the archiving service, idempotent by Message-ID and hash, adds nothing.
"""

import dataclasses
import datetime
import logging
import mailbox
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from crm.models import ContactCentreMessage, OrderingClient
from registers.models import Register

from .services import IntakeCounts, message_archive

logger = logging.getLogger(__name__)

SEEN = "S"
DIRECTIONS = {"in": ContactCentreMessage.Direction.INCOMING, "out": ContactCentreMessage.Direction.OUTGOING}


@dataclasses.dataclass
class MaildirSummary(IntakeCounts):
    # Folders and files that were not read, with the reason: names only, no message content.
    problems: list[str] = dataclasses.field(default_factory=list)


def _is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("new", "cur", "tmp"))


def _mark_seen(folder: Path, key: str, message: mailbox.MaildirMessage) -> None:
    """Move the message's file to cur/ with the S flag, as a mail client marks a message read."""
    # Maildir names a file `<key>` in new/ and `<key>:2,<flags>` in cur/ (mailbox.Maildir.colon).
    info = message.get_info()
    source = folder / message.get_subdir() / (f"{key}:{info}" if info else key)
    message.add_flag(SEEN)
    target = folder / "cur" / f"{key}:{message.get_info()}"
    try:
        os.rename(source, target)
    except FileNotFoundError:
        # Another reader marked it first, or the server moved it meanwhile: it is read again next time if
        # still unseen, and archiving it twice adds nothing.
        logger.info("Maildir message %s moved away before it could be marked as seen.", key)


def maildir_read(*, folder: Path, ordering_client: OrderingClient, direction: str) -> MaildirSummary:
    """Archive the unseen messages of one Maildir folder and mark each as seen."""
    summary = MaildirSummary()
    box = mailbox.Maildir(folder, factory=None, create=False)
    for key in box.iterkeys():
        try:
            message = box.get_message(key)
        except (FileNotFoundError, KeyError):
            continue
        if message.get_subdir() == "cur" and SEEN in message.get_flags():
            continue
        try:
            raw = box.get_bytes(key)
        except (FileNotFoundError, KeyError):
            continue
        result = message_archive(
            raw=raw,
            ordering_client=ordering_client,
            direction=direction,
            intake=ContactCentreMessage.Intake.MAILDIR,
            received_at=_delivered_at(message),
        )
        summary.count(result)
        _mark_seen(folder, key, message)
    return summary


def _delivered_at(message: mailbox.MaildirMessage):
    """Return when the message was delivered into the Maildir (its file's time), for a message without a Date."""
    return datetime.datetime.fromtimestamp(message.get_date(), tz=timezone.get_current_timezone())


def _client(name: str) -> OrderingClient | None:
    try:
        code = uuid.UUID(name)
    except ValueError:
        return None
    return (
        OrderingClient.objects.filter(code=code, register__kind=Register.Kind.CONTACT_CENTRE)
        .select_related("register")
        .first()
    )


def maildir_read_all(*, root: Path | str | None = None) -> MaildirSummary:
    """Read every ordering client's in/ and out/ Maildir under the drop folder's root."""
    root = Path(root or settings.ARCHIVE_MAILDIR_ROOT)
    total = MaildirSummary()
    if not root.is_dir():
        total.problems.append(f"{root}: not a folder")
        logger.warning("The Maildir drop folder %s does not exist.", root)
        return total
    for client_dir in sorted(root.iterdir()):
        if not client_dir.is_dir() or client_dir.name.startswith("."):
            continue
        ordering_client = _client(client_dir.name)
        if ordering_client is None:
            total.problems.append(f"{client_dir.name}: not the code of an ordering client")
            continue
        for sub in sorted(client_dir.iterdir()):
            if sub.name not in DIRECTIONS:
                total.problems.append(f"{client_dir.name}/{sub.name}: only in/ and out/ are read")
                continue
            if not _is_maildir(sub):
                total.problems.append(f"{client_dir.name}/{sub.name}: not a Maildir (new/, cur/, tmp/)")
                continue
            found = maildir_read(folder=sub, ordering_client=ordering_client, direction=DIRECTIONS[sub.name])
            total.archived += found.archived
            total.already += found.already
            total.unreadable += found.unreadable
    for problem in total.problems:
        logger.warning("Maildir drop folder: %s", problem)
    return total
