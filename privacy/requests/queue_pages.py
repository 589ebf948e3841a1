"""Pages of the request queue that never wait on a full count, with rows ready to print.

A register keeps its finished requests for years, so the "Finished" tab grows
without end: each page reads its 50 rows and one more (which tells whether a
next page exists), and the total is counted only up to COUNT_CAP, where the
page says "more than 1,000" instead. Pages past the cap stay reachable through
"Next"; a page past the end is a 404.

The rows are prepared in Python (as crm.display does for the customer list):
two deadline badges, a link and five labels per row cost more as template
includes and filters than the page's queries.
"""

import datetime
import math
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.display import page_number

from .models import DataSubjectRequest

PAGE_SIZE = 50
NO_DATE = "\u2013"  # the en dash the other request tables show for a missing date
COUNT_CAP = 1000


class QueuePage:
    """One page of a queue tab: its rows, its neighbours and the total counted up to COUNT_CAP."""

    def __init__(self, queryset: QuerySet, number, *, per_page: int | None = None, cap: int | None = None):
        self.number = page_number(number)
        per_page = per_page or PAGE_SIZE
        self.cap = cap = cap or COUNT_CAP
        # COUNT(*) over a LIMIT subquery stops scanning at cap + 1 rows.
        counted = queryset.order_by()[: cap + 1].count()
        self.capped = counted > cap
        self.count = min(counted, cap)
        self.num_pages = None if self.capped else max(1, math.ceil(counted / per_page))
        if self.num_pages is not None and self.number > self.num_pages:
            raise Http404
        bottom = (self.number - 1) * per_page
        rows = list(queryset[bottom : bottom + per_page + 1])
        if not rows and self.number > 1:
            raise Http404
        self.has_next = len(rows) > per_page
        self.object_list = rows[:per_page]
        self.has_previous = self.number > 1
        self.has_other_pages = self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def tab_counts(counts: dict[str, int]) -> dict[str, str]:
    """Write the tabs' counts as the page shows them: a count past COUNT_CAP as "1,000+"."""
    return {
        name: f"{formats.number_format(COUNT_CAP, force_grouping=True)}+"
        if count > COUNT_CAP
        else formats.number_format(count, force_grouping=True)
        for name, count in counts.items()
    }


@dataclass(frozen=True)
class Deadline:
    date: str
    # (text, badge class) of the days left; the class is "" for a plain text.
    left: tuple[str, str] | None


@dataclass(frozen=True)
class QueueRow:
    url: str
    reference: str
    kind: str
    registers: str
    state: str
    received: str
    service_due: Deadline
    legal_due: Deadline

    @property
    def deadlines(self) -> tuple[Deadline, Deadline]:
        return (self.service_due, self.legal_due)


class _ShortDates:
    """Format dates as SHORT_DATE_FORMAT once per calendar day: a page's hundred rows share a few dozen days."""

    def __init__(self):
        self.pattern = formats.get_format("SHORT_DATE_FORMAT")
        self.done: dict[datetime.date, str] = {}

    def __call__(self, value) -> str:
        if not value:
            return ""
        day = timezone.localdate(value)
        if day not in self.done:
            self.done[day] = dateformat.format(day, self.pattern)
        return self.done[day]


def _days_left(due, today) -> tuple[str, str] | None:
    """Say what privacy/_days_left.html says, with the same messages."""
    if due is None:
        return (NO_DATE, "muted")
    days = (timezone.localdate(due) - today).days
    if days < 0:
        return (ngettext("%(n)s day overdue", "%(n)s days overdue", -days) % {"n": -days}, "badge badge-danger")
    if days == 0:
        return (_("due today"), "badge badge-warn")
    return (ngettext("%(n)s day left", "%(n)s days left", days) % {"n": days}, "")


def queue_rows(requests) -> list[QueueRow]:
    """Prepare the queue's rows (requests with `registers` prefetched) for the template."""
    sentinel = str(uuid.UUID(int=0))
    url = reverse("privacy:request-detail", kwargs={"code": sentinel})
    kinds = dict(DataSubjectRequest.Kind.choices)
    states = dict(DataSubjectRequest.State.choices)
    today = timezone.localdate()
    short_date = _ShortDates()
    rows = []
    for dsr in requests:
        is_open = dsr.is_open
        rows.append(
            QueueRow(
                url=url.replace(sentinel, str(dsr.code)),
                reference=dsr.reference,
                kind=str(kinds.get(dsr.kind, dsr.kind)),
                registers=", ".join(register.name for register in dsr.registers.all()),
                state=str(states.get(dsr.state, dsr.state)),
                # An unconfirmed request has not been received yet: its row shows when it was sent.
                received=short_date(dsr.received_at or dsr.created_at) or NO_DATE,
                service_due=Deadline(
                    short_date(dsr.service_due_at), _days_left(dsr.service_due_at, today) if is_open else None
                ),
                legal_due=Deadline(
                    short_date(dsr.legal_due_at), _days_left(dsr.legal_due_at, today) if is_open else None
                ),
            )
        )
    return rows
