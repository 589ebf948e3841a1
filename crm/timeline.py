"""Rows other apps add to a customer's timeline, beside its interactions and invoices.

The timeline is one SQL UNION sorted and sliced in the database (`crm.selectors.customer_timeline_page`), so an
app that has something to show there (a done follow-up) gives a queryset of the same columns rather than rows:
`register(letter, source, present)`, where `source(customer)` returns the `.values(...)` of its rows with the
columns of `crm.selectors.TIMELINE_COLUMNS` and `present(entry)` returns the `crm.display.TimelineRow` keyword
arguments for one `TimelineEntry` (kind, title, text, details). crm imports none of those apps: they register
themselves in their AppConfig.ready().
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TimelineSource:
    rows: Callable  # (customer) -> values queryset with the timeline's columns, `entry` set to the letter
    present: Callable  # (TimelineEntry) -> dict of TimelineRow fields


SOURCES: dict[str, TimelineSource] = {}


def register(letter: str, *, rows: Callable, present: Callable) -> None:
    if letter in {"i", "v"}:
        raise ValueError("the letters i and v are the interactions' and the invoices'")
    SOURCES[letter] = TimelineSource(rows=rows, present=present)
