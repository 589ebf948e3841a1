"""Statistics without personal data for reports and elected bodies (seeds 000, 002).

Only counts leave this module, never names or identifiers. Any count from 1 to STATISTICS_MIN_CELL - 1 is
suppressed so that nobody can be singled out; a row total is suppressed too when it would give a single
suppressed cell away by subtraction; and the customer total is rounded to tens so that month-to-month
differences do not reveal a suppressed count of new customers.
"""

import dataclasses
import datetime

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Interaction
from privacy.requests.models import DataSubjectRequest
from registers.models import Register

MONTH = "month"
YEAR = "year"
YEARS_SHOWN = 5


@dataclasses.dataclass(frozen=True)
class Period:
    start: datetime.date
    label: str


@dataclasses.dataclass
class Row:
    label: str
    cells: list[int | None]
    total: int | None = None


@dataclasses.dataclass
class Table:
    key: str
    title: str
    rows: list[Row]
    has_total: bool = True
    note: str = ""


def periods_for(granularity: str, year: int) -> list[Period]:
    """Return the months of a year, or the five years up to and including it."""
    if granularity == YEAR:
        return [Period(datetime.date(y, 1, 1), str(y)) for y in range(year - YEARS_SHOWN + 1, year + 1)]
    return [Period(datetime.date(year, m, 1), f"{year}-{m:02d}") for m in range(1, 13)]


def _period_end(periods: list[Period], granularity: str) -> datetime.datetime:
    last = periods[-1].start
    if granularity == YEAR:
        end = datetime.date(last.year + 1, 1, 1)
    else:
        end = datetime.date(last.year + (last.month == 12), last.month % 12 + 1, 1)
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


def _counts_by(queryset: QuerySet, *, field: str, granularity: str, group: str | None = None) -> dict:
    trunc = TruncYear(field) if granularity == YEAR else TruncMonth(field)
    values = ["period", group] if group else ["period"]
    result: dict = {}
    for item in queryset.annotate(period=trunc).values(*values).annotate(n=Count("pk")).order_by():
        period = timezone.localtime(item["period"]).date() if hasattr(item["period"], "hour") else item["period"]
        result[(period, item[group]) if group else period] = item["n"]
    return result


def _series(counts: dict, periods: list[Period], key=None) -> list[int]:
    return [counts.get((p.start, key) if key is not None else p.start, 0) for p in periods]


def _customers_table(register: Register, periods: list[Period], granularity: str) -> Table:
    start, end = _bounds(periods, granularity)
    customers = Customer.objects.filter(register=register)
    new = _counts_by(
        customers.filter(created_at__gte=start, created_at__lt=end), field="created_at", granularity=granularity
    )
    before = customers.filter(created_at__lt=start).count()
    stock, running = [], before
    for count in _series(new, periods):
        running += count
        stock.append(running)
    rounded = [None if 0 < s < settings.STATISTICS_MIN_CELL else round(s, -1) for s in stock]
    return Table(
        key="customers",
        title=str(_("Customers")),
        rows=[
            Row(label=str(_("Customers at the end of the period (rounded to tens)")), cells=rounded),
            _row(_("New customers"), _series(new, periods)),
        ],
        has_total=False,
        note=str(_("Customers who were later deleted under retention are counted only while they existed.")),
    )


def _interactions_table(register: Register, periods: list[Period], granularity: str) -> Table:
    start, end = _bounds(periods, granularity)
    interactions = Interaction.objects.filter(customer__register=register, occurred_at__gte=start, occurred_at__lt=end)
    counts = _counts_by(interactions, field="occurred_at", granularity=granularity, group="kind")
    rows = [
        _row(label, _series(counts, periods, kind))
        for kind, label in Interaction.Kind.choices
        if kind != Interaction.Kind.PURCHASED_SERVICE
    ]
    return Table(key="interactions", title=str(_("Customer contacts by kind")), rows=rows)


def _services_table(register: Register, periods: list[Period], granularity: str) -> Table:
    start, end = _bounds(periods, granularity)
    services = Interaction.objects.filter(
        customer__register=register,
        kind=Interaction.Kind.PURCHASED_SERVICE,
        occurred_at__gte=start,
        occurred_at__lt=end,
    )
    counts = _counts_by(services, field="occurred_at", granularity=granularity)
    return Table(
        key="services",
        title=str(_("Purchased services")),
        rows=[_row(_("Purchased services"), _series(counts, periods))],
    )


def _requests_tables(register: Register, periods: list[Period], granularity: str) -> list[Table]:
    start, end = _bounds(periods, granularity)
    requests = DataSubjectRequest.objects.filter(
        register_parts__register=register, received_at__gte=start, received_at__lt=end
    ).distinct()
    by_kind = _counts_by(requests, field="received_at", granularity=granularity, group="kind")
    # An open request has no outcome yet; it is counted as open.
    outcomes = _counts_by(requests, field="received_at", granularity=granularity, group="outcome")
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
        tables += [
            _interactions_table(register, periods, granularity),
            _services_table(register, periods, granularity),
        ]
    tables += _requests_tables(register, periods, granularity)
    return {
        "periods": periods,
        "tables": tables,
        "granularity": granularity,
        "year": year,
        "min_cell": settings.STATISTICS_MIN_CELL,
    }


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


@dataclasses.dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str
    value: str
    text_x: int
    value_y: int


CHART_WIDTH = 640
CHART_HEIGHT = 200
CHART_TOP = 16
CHART_BOTTOM = 24


def bar_chart(*, title: str, labels: list[str], cells: list[int | None], min_cell: int) -> dict:
    """Lay out a bar chart for server-side SVG: suppressed cells get no bar, only their '<N' label."""
    slot = CHART_WIDTH // max(len(labels), 1)
    peak = max([c for c in cells if c] or [1])
    usable = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []
    for index, (label, cell) in enumerate(zip(labels, cells, strict=True)):
        height = round(usable * (cell or 0) / peak)
        bars.append(
            Bar(
                x=index * slot + slot // 6,
                y=CHART_TOP + usable - height,
                width=slot * 2 // 3,
                height=height,
                label=label,
                value=f"<{min_cell}" if cell is None else str(cell),
                text_x=index * slot + slot // 2,
                value_y=CHART_TOP + usable - height - 4,
            )
        )
    return {"title": title, "bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "label_y": CHART_HEIGHT - 8}


def statistics_charts(statistics: dict) -> list[dict]:
    """Return the charts of the page: customers and purchased services over time, contacts and requests by kind."""
    minimum = statistics["min_cell"]
    periods = statistics["periods"]
    labels = [p.label[-2:] if len(periods) == 12 else p.label for p in periods]
    charts = []
    for table in statistics["tables"]:
        if table.key in {"customers", "services"}:
            charts += [
                bar_chart(title=row.label, labels=labels, cells=row.cells, min_cell=minimum) for row in table.rows
            ]
        else:
            # One bar per kind over the whole span: the row totals, suppressed like any cell.
            charts.append(
                bar_chart(
                    title=table.title,
                    labels=[str(index) for index in range(1, len(table.rows) + 1)],
                    cells=[row.total for row in table.rows],
                    min_cell=minimum,
                )
                | {"legend": [row.label for row in table.rows]}
            )
    return charts
