"""The outbox: letters to requesters stored as `Correspondence` rows, and the after-commit announcements.

A letter is stored in the same transaction as the step that causes it and announced only after commit.
Sending is the task layer's business (`privacy.requests.tasks` receives the signals below and hands the
work to Celery), so the workflow and services that write here never import the tasks or the e-mails.
When the broker is down the step still succeeds; the sweepers (Celery beat) pick up whatever is left.
"""

import functools

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from .models import Correspondence, DataSubjectRequest, RequestEvent

# Sent after commit with `correspondence_id`: a stored letter is ready to send.
letter_queued = Signal()
# Sent after commit with `package_id`: an answer package needs its PDF.
package_pdf_wanted = Signal()


def correspondence_queue(
    *, request: DataSubjectRequest, kind: str, message: str = "", package=None
) -> Correspondence | None:
    """Store a letter to the requester and send it after commit; None when there is no e-mail address."""
    if not request.requester_email:
        return None
    correspondence = Correspondence.objects.create(
        request=request, kind=kind, message=message, package=package, created_at=timezone.now()
    )
    RequestEvent.objects.create(
        request=request,
        at=correspondence.created_at,
        action=RequestEvent.Action.LETTER_QUEUED,
        from_state=request.state,
        to_state=request.state,
        payload={"kind": kind, "language": request.language},
    )
    transaction.on_commit(functools.partial(_announce_letter, correspondence.pk))
    return correspondence


def _announce_letter(correspondence_id: int) -> None:
    letter_queued.send(sender=Correspondence, correspondence_id=correspondence_id)
