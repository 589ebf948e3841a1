"""The archive's beat tasks (config.settings.CELERY_BEAT_SCHEDULE): mailboxes, the Maildir drop, recording lists."""

import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from archive.imap import PollResult, mailbox_poll
from archive.models import Mailbox

logger = logging.getLogger(__name__)


def mailboxes_due(*, now=None) -> list[Mailbox]:
    """Return the mailboxes in use whose interval has passed since their last read.

    A mailbox of an ordering client that is no longer a client is not read: seed 004 keeps messages only as
    long as the department is a client, and the purge would take what was read.
    """
    now = now or timezone.now()
    mailboxes = (
        Mailbox.objects.filter(enabled=True)
        .filter(
            Q(ordering_client__active_until__isnull=True)
            | Q(ordering_client__active_until__gte=timezone.localdate(now))
        )
        .select_related("ordering_client")
        .order_by("pk")
    )
    return [mailbox for mailbox in mailboxes if mailbox.is_due(now)]


def mailboxes_poll_each(mailboxes) -> dict[int, PollResult]:
    """Poll each mailbox in turn; a failure of one is logged and the next is read all the same."""
    results = {}
    for mailbox in mailboxes:
        try:
            results[mailbox.pk] = mailbox_poll(mailbox)
        except Exception as error:
            # mailbox_poll reports the server's problems itself; this is the database or a bug. The class only:
            # the text could quote a message.
            logger.error("Mailbox %s: the poll failed (%s).", mailbox.pk, type(error).__name__)
    return results


@shared_task(name="archive.tasks.mailboxes_poll")
def mailboxes_poll() -> dict:
    """Read every mailbox in use that is due; beat sends this every minute."""
    results = mailboxes_poll_each(mailboxes_due())
    return {
        "mailboxes": len(results),
        "archived": sum(result.archived for result in results.values()),
        "errors": sum(result.errors for result in results.values()),
    }


@shared_task(name="archive.tasks.maildir_read")
def maildir_read() -> None:
    """Archive what the server drop folder holds (archive.maildir)."""
    from archive.maildir import maildir_read_all

    maildir_read_all()


@shared_task(name="archive.tasks.recording_lists_read")
def recording_lists_read() -> None:
    """Import the recording server's daily lists from the drop folder (archive.recordings)."""
    from archive.recordings import recording_lists_read as lists_read

    lists_read()


@shared_task(name="archive.tasks.files_sweep")
def files_sweep() -> int:
    """Remove the sealed files that a batch which did not commit left behind (archive.files)."""
    from archive.files import stray_files_sweep

    stray, _young = stray_files_sweep()
    logger.info("Archive files sweep: %s stray files removed.", stray)
    return stray
