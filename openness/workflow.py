"""The state machine and the clock of document requests (Act 621/1999 14 §).

`TRANSITIONS` lists every legal move (checked by `MACHINE`, the shared mechanism of registers.state_machine);
`document_request_transition` is the only code that changes `DocumentRequest.state` and appends the event.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers.state_machine import StateMachine

from .models import DocumentRequest

State = DocumentRequest.State

TRANSITIONS: dict[str, frozenset[str]] = {
    State.RECEIVED: frozenset({State.IN_REVIEW, State.WITHDRAWN, State.TRANSFERRED}),
    # The official gives the documents (answered), or refuses and asks whether a decision is wanted (14(3) §).
    State.IN_REVIEW: frozenset({State.ANSWERED, State.AWAITING_CHOICE, State.TRANSFERRED, State.WITHDRAWN}),
    State.AWAITING_CHOICE: frozenset({State.DECISION_PENDING, State.CLOSED, State.WITHDRAWN}),
    # The competent office holder's written decision, with the instructions for appeal.
    State.DECISION_PENDING: frozenset({State.ANSWERED, State.WITHDRAWN}),
    State.ANSWERED: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
    State.WITHDRAWN: frozenset(),
    State.TRANSFERRED: frozenset(),
}
MACHINE = StateMachine(
    name="document request",
    states=State,
    transitions=TRANSITIONS,
    illegal_message=_("A document request cannot move from “%(old)s” to “%(new)s”."),
)

TWO_WEEKS = datetime.timedelta(days=14)
ONE_MONTH = relativedelta(months=1)
# Reminders to the handlers, counted back from the deadline: days 10 and 12 of the two weeks.
REMINDER_DAYS_BEFORE = (4, 2)


def deadline_for(*, received_at: datetime.datetime, extended: bool) -> datetime.datetime:
    """The end of the last day of the answer: two weeks from the day of receipt, or one calendar month when the
    request is especially difficult (14(4) §). Counted in Finnish local days: a request received on 31 January
    has until the last day of February."""
    received_on = timezone.localtime(received_at).date()
    last_day = received_on + (ONE_MONTH if extended else TWO_WEEKS)
    return timezone.make_aware(datetime.datetime.combine(last_day, datetime.time(23, 59, 59)))
