"""Statistics without personal data for reports and elected bodies (seeds 000, 002).

Only counts leave this module, never names or identifiers. Any count from 1 to STATISTICS_MIN_CELL - 1 is
suppressed so that nobody can be singled out; a row total is suppressed too when it would give a single
suppressed cell away by subtraction; and the customer total is rounded to tens so that month-to-month
differences do not reveal a suppressed count of new customers.
"""

import dataclasses
import datetime

from django.conf import settings
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Interaction
from privacy.requests.models import DataSubjectRequest
from registers.models import Register

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
# From the finest to the coarsest: the grouping chosen automatically is the first one that shows most figures.
GRANULARITIES = (MONTH, QUARTER, YEAR)
YEARS_SHOWN = 5
QUARTERS_SHOWN = 8
# A grouping is readable when at most this share of its non-zero figures is hidden.
MAX_HIDDEN_SHARE = 0.25
STEP_MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}


@dataclasses.dataclass(frozen=True)
class Period:
    start: datetime.date
    label: str


@dataclasses.dataclass
class Row:
    label: str
    cells: list[int | None]
    total: int | None = None
    # A running total (customers at the end of the period) rather than a count of what happened in the period.
    stock: bool = False


@dataclasses.dataclass
class Table:
    key: str
    title: str
    rows: list[Row]
    has_total: bool = True
    note: str = ""

    @property
    def has_hidden(self) -> bool:
        """Tell whether any figure of the table is hidden, so that the page explains why under it."""
        return any(None in row.cells or (self.has_total and row.total is None) for row in self.rows)


def round_to_tens(count: int) -> int:
    """Round half up: Python's round() goes to even, which showed a register of 5 or 25 customers as 0 or 20."""
    return (count + 5) // 10 * 10


def periods_for(granularity: str, year: int) -> list[Period]:
    """Return the months of a year, the eight quarters of it and the year before, or the five years up to it."""
    if granularity == YEAR:
        return [Period(datetime.date(y, 1, 1), str(y)) for y in range(year - YEARS_SHOWN + 1, year + 1)]
    if granularity == QUARTER:
        return [
            Period(datetime.date(y, 3 * q - 2, 1), f"{y}-Q{q}")
            for y in range(year - QUARTERS_SHOWN // 4 + 1, year + 1)
            for q in range(1, 5)
        ]
    return [Period(datetime.date(year, m, 1), f"{year}-{m:02d}") for m in range(1, 13)]


def _period_end(periods: list[Period], granularity: str) -> datetime.datetime:
    last = periods[-1].start
    months = last.year * 12 + last.month - 1 + STEP_MONTHS[granularity]
    end = datetime.date(months // 12, months % 12 + 1, 1)
    return timezone.make_aware(datetime.datetime.combine(end, datetime.time()))


def _bounds(periods: list[Period], granularity: str) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(periods[0].start, datetime.time()))
    return start, _period_end(periods, granularity)


def suppress(value: int, minimum: int | None = None) -> int | None:
    """Return the count, or None when it is small enough to single someone out."""
    minimum = settings.STATISTICS_MIN_CELL if minimum is None else minimum
    return None if 0 < value < minimum else value


def _row(label: str, values: list[int]) -> Row:
    cells = [suppress(v) for v in values]
    total = suppress(sum(values))
    # One hidden cell plus a shown total and shown neighbours would reveal the hidden one.
    if total is not None and sum(c is None for c in cells) == 1:
        total = None
    return Row(label=str(label), cells=cells, total=total)


def _period_starts(periods: list[Period]) -> list[datetime.datetime]:
    return [timezone.make_aware(datetime.datetime.combine(p.start, datetime.time())) for p in periods]


def _bucket(field: str, periods: list[Period], *, before: bool = False) -> Case:
    """The index of the period a row's time falls in (-1 before the first when `before` is asked for).

    Comparisons with the periods' first instants in the current time zone put a row in the same period as
    truncating its local time would (Trunc* in the current time zone), at a third of the cost per row on
    PostgreSQL, and on any database. The caller filters the rows to the periods' span.
    """
    starts = _period_starts(periods)
    whens = [When(**{f"{field}__lt": starts[0]}, then=Value(-1))] if before else []
    whens += [When(**{f"{field}__lt": start}, then=Value(index)) for index, start in enumerate(starts[1:])]
    return Case(*whens, default=Value(len(starts) - 1), output_field=IntegerField())


def _counts_by(queryset: QuerySet, *, field: str, periods: list[Period], groups=(), before=False) -> dict:
    """Count rows per period (and per value of each of `groups`) in one aggregate query.

    Keys are (period start, *group values), or the period start alone without groups; with `before`, the
    rows before the first period are counted under the key None.
    """
    values = ["bucket", *groups]
    rows = queryset.annotate(bucket=_bucket(field, periods, before=before)).values(*values)
    # COUNT(*) rather than of a column: the count is then read from an index holding the filtered columns.
    result: dict = {}
    for item in rows.annotate(n=Count("*")).order_by():
        period = periods[item["bucket"]].start if item["bucket"] >= 0 else None
        key = (period, *(item[group] for group in groups)) if groups else period
        result[key] = result.get(key, 0) + item["n"]
    return result


def _sum_by(counts: dict, index: int) -> dict:
    """Add up counts keyed (period, a, b) into (period, key[index])."""
    result: dict = {}
    for key, n in counts.items():
        short = (key[0], key[index])
        result[short] = result.get(short, 0) + n
    return result


def _series(counts: dict, periods: list[Period], key=None) -> list[int]:
    return [counts.get((p.start, key) if key is not None else p.start, 0) for p in periods]


def _customers_table(register: Register, periods: list[Period], granularity: str) -> Table:
    _start, end = _bounds(periods, granularity)
    customers = Customer.objects.filter(register=register, created_at__lt=end)
    # The customers before the first period and those new in each, in one query.
    new = _counts_by(customers, field="created_at", periods=periods, before=True)
    before = new.pop(None, 0)
    stock, running = [], before
    for count in _series(new, periods):
        running += count
        stock.append(running)
    rounded = [None if 0 < s < settings.STATISTICS_MIN_CELL else round_to_tens(s) for s in stock]
    return Table(
        key="customers",
        title=str(_("Customers")),
        rows=[
            Row(label=str(_("Customers at the end of the period (rounded to tens)")), cells=rounded, stock=True),
            _row(_("New customers"), _series(new, periods)),
        ],
        has_total=False,
        note=str(_("Customers who were later deleted under retention are counted only while they existed.")),
    )


def _interaction_tables(register: Register, periods: list[Period], granularity: str) -> list[Table]:
    """Customer contacts by kind, and purchased services, from one count of the register's interactions."""
    start, end = _bounds(periods, granularity)
    interactions = Interaction.objects.filter(customer__register=register, occurred_at__gte=start, occurred_at__lt=end)
    counts = _counts_by(interactions, field="occurred_at", periods=periods, groups=("kind",))
    rows = [
        _row(label, _series(counts, periods, kind))
        for kind, label in Interaction.Kind.choices
        if kind != Interaction.Kind.PURCHASED_SERVICE
    ]
    services = _series(counts, periods, Interaction.Kind.PURCHASED_SERVICE)
    return [
        Table(key="interactions", title=str(_("Customer contacts by kind")), rows=rows),
        Table(
            key="services",
            title=str(_("Purchased services")),
            rows=[_row(_("Purchased services"), services)],
        ),
    ]


def _requests_tables(register: Register, periods: list[Period], granularity: str) -> list[Table]:
    start, end = _bounds(periods, granularity)
    # A request has at most one part per register (request_register_unique), so the join counts each once.
    requests = DataSubjectRequest.objects.filter(
        register_parts__register=register, received_at__gte=start, received_at__lt=end
    )
    counts = _counts_by(requests, field="received_at", periods=periods, groups=("kind", "outcome"))
    by_kind = _sum_by(counts, 1)
    # An open request has no outcome yet; it is counted as open.
    outcomes = _sum_by(counts, 2)
    state_labels = dict(DataSubjectRequest.State.choices)
    outcome_rows = [_row(_("open"), _series(outcomes, periods, ""))] + [
        _row(state_labels[state], _series(outcomes, periods, state))
        for state in sorted({key[1] for key in outcomes if key[1]})
    ]
    return [
        Table(
            key="requests",
            title=str(_("Data-subject requests by type")),
            rows=[_row(label, _series(by_kind, periods, kind)) for kind, label in DataSubjectRequest.Kind.choices],
        ),
        Table(key="request_outcomes", title=str(_("Data-subject requests by outcome")), rows=outcome_rows),
    ]


def register_statistics(*, register: Register, granularity: str = MONTH, year: int | None = None) -> dict:
    """Return the statistics tables of a register per month of a year, or per year."""
    year = year or timezone.localdate().year
    periods = periods_for(granularity, year)
    tables = [_customers_table(register, periods, granularity)]
    if register.kind == Register.Kind.CUSTOMER:
        tables += _interaction_tables(register, periods, granularity)
    tables += _requests_tables(register, periods, granularity)
    return {
        "periods": periods,
        "tables": tables,
        "granularity": granularity,
        "year": year,
        "min_cell": settings.STATISTICS_MIN_CELL,
        "automatic": False,
    }


def hidden_share(statistics: dict) -> float:
    """Return the share of the non-zero figures that are hidden (0 when there is nothing to show)."""
    rows = [row for table in statistics["tables"] for row in table.rows if not row.stock]
    cells = [cell for row in rows for cell in row.cells if cell != 0]
    return sum(cell is None for cell in cells) / len(cells) if cells else 0.0


def register_statistics_readable(*, register: Register, year: int | None = None) -> dict:
    """Return the statistics per month, or per quarter or year when too many monthly figures would be hidden.

    A small register has few events a month, and a table of "<5" tells its owner
    nothing; coarser periods add the events up until most figures can be shown.
    The suppression rule itself never changes.
    """
    for granularity in GRANULARITIES:
        statistics = register_statistics(register=register, granularity=granularity, year=year)
        if hidden_share(statistics) <= MAX_HIDDEN_SHARE:
            break
    statistics["automatic"] = True
    return statistics


def statistics_csv_rows(*, register: Register, statistics: dict) -> list[list[str]]:
    """Flatten the tables into CSV rows: register, table, row, period, value ('<N' when suppressed)."""
    suppressed = f"<{statistics['min_cell']}"
    rows = [["register", "table", "row", "period", "value"]]
    for table in statistics["tables"]:
        for row in table.rows:
            for period, cell in zip(statistics["periods"], row.cells, strict=True):
                rows.append(
                    [register.slug, table.key, row.label, period.label, suppressed if cell is None else str(cell)]
                )
            if table.has_total:
                total = "hidden" if row.total is None else str(row.total)
                rows.append([register.slug, table.key, row.label, "total", total])
    return rows
