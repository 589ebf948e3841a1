"""Server-drawn SVG charts of the statistics: no script, readable text, a text alternative for each chart.

The page draws the charts in columns 20-35 rem wide (`.chart-grid`). The
drawing is VIEW_WIDTH user units wide and scales to its column, so text of
FONT units is never drawn smaller than 12 px. Sizes and colours are SVG
presentation attributes: the content-security policy forbids inline styles.

A hidden count gets no bar: a dashed outline reaching up to the threshold says
"somewhere below it", with the same "<N" the tables show.
"""

import dataclasses
import math

from django.utils.translation import gettext as _

from .selectors import MONTH, QUARTER, Period

VIEW_WIDTH = 400
FONT = 16
LINE = 19
PLOT_HEIGHT = 150
BAR_COLOUR = "#0b4f8a"
GRID_COLOUR = "#c9d1db"
TEXT_COLOUR = "#1b1f24"


class _Rounded:
    """Coordinates rounded to a tenth: the SVG stays short, and no locale ever formats them."""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float):
                object.__setattr__(self, field.name, round(value, 1))


@dataclasses.dataclass(frozen=True)
class Text(_Rounded):
    x: float
    y: float
    lines: tuple[str, ...]
    anchor: str = "middle"


@dataclasses.dataclass(frozen=True)
class Rect(_Rounded):
    x: float
    y: float
    width: float
    height: float
    hidden: bool
    title: str


@dataclasses.dataclass(frozen=True)
class Line(_Rounded):
    x1: float
    y1: float
    x2: float
    y2: float


def _nice_top(peak: int) -> int:
    """Round the axis up to 1, 2 or 5 times a power of ten, so that the tick labels are round numbers."""
    if peak <= 0:
        return 1
    power = 10 ** math.floor(math.log10(peak))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= peak)


def _shown(cell: int | None, min_cell: int) -> str:
    return f"<{min_cell}" if cell is None else str(cell)


def _spoken(cell: int | None, min_cell: int) -> str:
    if cell is None:
        return _("fewer than %(min)s, hidden to protect privacy") % {"min": min_cell}
    return str(cell)


def _period_lines(period: Period, granularity: str) -> tuple[str, ...]:
    if granularity == QUARTER:
        year, quarter = period.label.split("-")
        return (quarter, year)
    if granularity == MONTH:
        return (str(period.start.month),)
    return (period.label,)


def axis_title(granularity: str, year: int) -> str:
    if granularity == MONTH:
        return _("Month of %(year)s") % {"year": year}
    if granularity == QUARTER:
        return _("Quarter")
    return _("Year")


def _summary(labels: list[str], cells: list[int | None], min_cell: int) -> str:
    return "; ".join(f"{label}: {_spoken(cell, min_cell)}" for label, cell in zip(labels, cells, strict=True))


def column_chart(
    *, key: str, title: str, statistics: dict, cells: list[int | None], table_key: str, number: int
) -> dict:
    """Lay out one count per period as columns, with a y axis, gridlines and the periods under the x axis."""
    min_cell, periods, granularity = statistics["min_cell"], statistics["periods"], statistics["granularity"]
    peak = max([c for c in cells if c] + [min_cell - 1])
    top = _nice_top(peak)
    left = 12 + 0.6 * FONT * len(str(top))
    label_lines = max(len(_period_lines(p, granularity)) for p in periods)
    plot_top = LINE + 6
    base = plot_top + PLOT_HEIGHT
    height = base + 8 + LINE * label_lines + LINE + 6
    slot = (VIEW_WIDTH - left - 4) / len(periods)
    texts, rects = [], []
    lines = []
    for tick in (0, top // 2 if top >= 2 else None, top):
        if tick is None:
            continue
        y = base - PLOT_HEIGHT * tick / top
        lines.append(Line(left, y, VIEW_WIDTH - 4, y))
        texts.append(Text(left - 6, y + FONT * 0.35, (str(tick),), anchor="end"))
    values = [_shown(c, min_cell) for c in cells]
    # Figures above the columns only where they fit; the table below has them all.
    numbers_fit = max(len(v) for v in values) * 0.6 * FONT <= slot - 2
    for index, (period, cell) in enumerate(zip(periods, cells, strict=True)):
        centre = left + slot * (index + 0.5)
        width = slot * 0.6
        shown = (min_cell - 1) if cell is None else cell
        bar = PLOT_HEIGHT * shown / top
        rects.append(
            Rect(
                centre - width / 2,
                base - bar,
                width,
                bar,
                hidden=cell is None,
                title=f"{period.label}: {_spoken(cell, min_cell)}",
            )
        )
        if cell is None or numbers_fit:
            texts.append(Text(centre, base - bar - 5, (values[index],)))
        texts.append(Text(centre, base + 8 + FONT * 0.8, _period_lines(period, granularity)))
    texts.append(Text(left + (VIEW_WIDTH - left) / 2, height - 8, (axis_title(granularity, statistics["year"]),)))
    return {
        "id": f"chart-{number}",
        "key": key,
        "table_key": table_key,
        "title": title,
        "empty": not any(c is None or c for c in cells),
        "desc": _summary([p.label for p in periods], cells, min_cell),
        "width": VIEW_WIDTH,
        "height": round(height),
        "font": FONT,
        "texts": texts,
        "rects": rects,
        "lines": lines,
        "axis": Line(left, plot_top, left, base),
        "baseline": Line(left, base, VIEW_WIDTH - 4, base),
    }


def bar_chart(
    *, key: str, title: str, labels: list[str], totals: list[int | None], table_key: str, number: int
) -> dict:
    """Lay out one total per kind as horizontal bars, each under its full label, with its figure at its end."""
    shown_totals = [t for t in totals if t]
    top = _nice_top(max(shown_totals, default=1))
    room = VIEW_WIDTH - 8 - 0.6 * FONT * (len(str(top)) + 1)
    texts, rects = [], []
    y = 0.0
    for label, total in zip(labels, totals, strict=True):
        y += LINE
        texts.append(Text(4, y, (label,), anchor="start"))
        y += 6
        width = room * (total or 0) / top
        shown = _("hidden") if total is None else str(total)
        spoken = _("hidden to protect privacy") if total is None else str(total)
        rects.append(Rect(4, y, width, 16, hidden=False, title=f"{label}: {spoken}"))
        texts.append(Text(4 + width + 6, y + 13, (shown,), anchor="start"))
        y += 16 + 8
    height = y + LINE + 4
    texts.append(Text(VIEW_WIDTH / 2, height - 6, (_("Number over the whole period shown"),)))
    return {
        "id": f"chart-{number}",
        "key": key,
        "table_key": table_key,
        "title": title,
        "empty": not any(t is None or t for t in totals),
        "desc": "; ".join(
            f"{label}: {_('hidden to protect privacy') if total is None else total}"
            for label, total in zip(labels, totals, strict=True)
        ),
        "width": VIEW_WIDTH,
        "height": round(height),
        "font": FONT,
        "texts": texts,
        "rects": rects,
        "lines": [],
        "axis": Line(4, 0, 4, y),
        "baseline": None,
    }


def statistics_charts(statistics: dict) -> list[dict]:
    """Return the charts of the page: customers and purchased services over time, contacts and requests by kind."""
    charts = []
    for table in statistics["tables"]:
        if table.key in {"customers", "services"}:
            for row in table.rows:
                charts.append(
                    column_chart(
                        key=f"{table.key}-{len(charts)}",
                        title=row.label,
                        statistics=statistics,
                        cells=row.cells,
                        table_key=table.key,
                        number=len(charts) + 1,
                    )
                )
        else:
            # One bar per kind over the whole span: the row totals, hidden like any figure that could give someone away.
            charts.append(
                bar_chart(
                    key=table.key,
                    title=table.title,
                    labels=[row.label for row in table.rows],
                    totals=[row.total for row in table.rows],
                    table_key=table.key,
                    number=len(charts) + 1,
                )
            )
    return charts
