"""Data of the workspace's busiest pages, prepared in Python for their templates.

The list and the customer page render on every keystroke and every visit;
per-row template logic ({% url %}, filters, translations, widget templates)
costs more there than the queries, so the rows arrive ready to print.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from companies.facts import CompanyStatus
from registers.models import Register

from . import exports, timeline
from .models import Customer, Interaction, Invoice

# No register has this many pages; a bigger number would overflow the database's integer OFFSET.
MAX_PAGE = 100_000


def page_number(value) -> int:
    """Return the page a `page` parameter asks for: 1 unless it is a whole number, at most MAX_PAGE."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(1, number), MAX_PAGE)


class CustomerPaginator(Paginator):
    """Pages of customer rows (value tuples of `fields`) that stay cheap at 100,000 customers.

    A search or filter counts at most `cap` matches (`capped` tells whether
    more exist); the register's own total is counted exactly.
    """

    def __init__(self, customers, per_page, *, fields, cap: int | None = None):
        super().__init__(customers, per_page)
        self.fields = fields
        self.cap = cap
        self.capped = False
        # The keys of every match when a search or filter matches at most `cap` customers.
        self.matched: list[int] | None = None

    @cached_property
    def count(self) -> int:
        if self.cap is None:
            return super().count
        # Up to cap + 1 keys of the matches, in no order: with no ORDER BY to serve, PostgreSQL reads a
        # rare term through its trigram indexes and stops a common one at cap + 1 rows.
        keys = list(self.object_list.order_by().values_list("pk", flat=True)[: self.cap + 1])
        self.capped = len(keys) > self.cap
        if not self.capped:
            self.matched = keys
        return min(len(keys), self.cap)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        order = self.object_list.query.order_by
        if self.matched is not None:
            # The matches are known and few: ordering their keys costs a sort of at most `cap` rows,
            # where walking the name index until a page of them turns up can read most of the
            # register (an e-mail domain the planner guessed common: 50,000 rows for 262 matches).
            rows = Customer.objects.filter(pk__in=self.matched).order_by(*order)[bottom : bottom + self.per_page]
            return self._get_page(rows.values_list(*self.fields), number, self)
        # The page's keys come from the (register, sort_name, id) index alone,
        # so page 500 skips 25,000 index entries, not 25,000 table rows; only
        # the 50 rows shown are read in full. The LIMIT is always a full page:
        # Django would trim it to the count, and LIMIT 1 for a rare term makes
        # PostgreSQL walk the name index instead of using the trigram index.
        keys = self.object_list.values("pk")[bottom : bottom + self.per_page]
        # The keys carry the permission and search filters; the outer query only orders the page.
        rows = Customer.objects.filter(pk__in=keys).order_by(*order).values_list(*self.fields)
        return self._get_page(rows, number, self)


LIST_FIELDS = (
    "code",
    "kind",
    "organisation_name",
    "first_name",
    "last_name",
    "last_activity_at",
    "marketing_objection",
    "processing_restricted",
    "company_status",
)


@dataclass(frozen=True)
class ListRow:
    url: str
    name: str
    kind: str
    cells: list[tuple[str, bool]]
    activity_iso: str
    activity: str
    # (text, badge class) of the legal flags, shown next to the name: a staff user looking for the
    # customer sees at once that processing is restricted or that no marketing may be sent.
    flags: tuple[tuple[str, str], ...]
    # The customer's code, for the list's selection checkbox (segments' bulk actions).
    code: str = ""


def list_rows(register: Register, rows, columns: list[exports.Column]) -> list[ListRow]:
    """Prepare the rows of the list page in Python: per-cell logic in templates costs more than the queries."""
    sentinel = uuid.UUID(int=0)
    url = reverse("crm:customer-detail", kwargs={"register": register.slug, "code": sentinel})
    kinds = dict(Customer.Kind.choices)
    # Identifiers and phone numbers read wrong when broken over two lines.
    nowrap = [column.name in {"business_id", "mobile"} for column in columns]
    restricted_flag = (_("processing restricted"), "badge-danger")
    objected_flag = (_("no marketing"), "badge-warn")
    # A company in liquidation, bankruptcy or restructuring, or one that has ceased (the company register).
    company_flags = {status: (str(status.label).lower(), "badge-danger") for status in CompanyStatus}
    del company_flags[CompanyStatus.ACTIVE]
    prepared = []
    for code, kind, organisation_name, first_name, last_name, activity, objected, restricted, company, *cells in rows:
        activity = timezone.localtime(activity)
        prepared.append(
            ListRow(
                url=url.replace(str(sentinel), str(code)),
                name=Customer.name_from(kind, organisation_name, first_name, last_name),
                kind=capfirst(kinds.get(kind, kind)),
                cells=[
                    (getattr(cell, "as_international", cell) or "", keep)
                    for cell, keep in zip(cells, nowrap, strict=True)
                ],
                activity_iso=activity.isoformat(),
                activity=formats.date_format(activity, "SHORT_DATE_FORMAT"),
                flags=tuple(
                    flag
                    for flag, on in (
                        (restricted_flag, restricted),
                        (objected_flag, objected),
                        (company_flags.get(company), company in company_flags),
                    )
                    if on
                ),
                code=str(code),
            )
        )
    return prepared


def _value(form, name: str) -> str:
    return str(form.data.get(name, "")) if form.is_bound else ""


def search_control(form) -> dict:
    return {"label": form.fields["q"].label, "value": _value(form, "q"), "errors": form.errors.get("q", [])}


def filter_controls(form) -> list[dict]:
    """Describe the filter form's selects and number inputs for the list template, which writes them out."""
    controls = []
    for name, field in form.fields.items():
        if name == "q":
            continue
        value = _value(form, name)
        control = {"name": name, "label": field.label, "value": value, "errors": form.errors.get(name, [])}
        if hasattr(field, "choices"):
            control["choices"] = [(key, label, str(key) == value) for key, label in field.choices]
        else:
            control.update(min=field.min_value, max=field.max_value)
        controls.append(control)
    return controls


def field_rows(customer: Customer) -> list[tuple[str, object]]:
    """Return (label, value) of every field the register collects, and only those."""
    rows = []
    for name in Customer.fields_collected_by(customer.register):
        if customer.kind == Customer.Kind.PERSON and name == "business_id":
            continue
        if customer.kind == Customer.Kind.ORGANISATION and name == "date_of_birth":
            continue
        field = Customer._meta.get_field(name)
        value = getattr(customer, name)
        if field.choices:
            value = getattr(customer, f"get_{name}_display")()
        elif hasattr(value, "as_international"):
            value = value.as_international
        elif isinstance(value, datetime.date):
            value = formats.date_format(value, "SHORT_DATE_FORMAT")
        rows.append((field.verbose_name, value))
    return rows


@dataclass(frozen=True)
class TimelineRow:
    is_invoice: bool
    at_iso: str
    at: str
    kind: str
    title: str
    text: str = ""
    details: str = ""
    edit_url: str = ""
    delete_url: str = ""


def timeline_rows(register: Register, customer: Customer, entries) -> list[TimelineRow]:
    """Prepare the timeline in Python, like the list rows: template logic for 50 entries costs more than the query."""
    sentinel = str(uuid.UUID(int=0))
    kwargs = {"register": register.slug, "code": customer.code, "interaction": sentinel}
    edit_url = reverse("crm:interaction-update", kwargs=kwargs)
    delete_url = reverse("crm:interaction-delete", kwargs=kwargs)
    kinds = {key: capfirst(label) for key, label in Interaction.Kind.choices}
    statuses = dict(Invoice.Status.choices)
    rows = []
    for entry in entries:
        at = timezone.localtime(entry.at)
        common = {"at_iso": at.isoformat(), "at": formats.date_format(at, "SHORT_DATETIME_FORMAT")}
        if entry.is_invoice:
            amount = formats.number_format(entry.amount, 2, use_l10n=True, force_grouping=True)
            due = formats.date_format(entry.due_date, "SHORT_DATE_FORMAT")
            status = statuses.get(entry.kind, entry.kind)
            rows.append(
                TimelineRow(
                    is_invoice=True,
                    kind=_("Invoice"),
                    title=_("%(number)s, %(amount)s €") % {"number": entry.title, "amount": amount},
                    details=_("Due %(due)s, %(status)s") % {"due": due, "status": status},
                    **common,
                )
            )
            continue
        source = timeline.SOURCES.get(entry.entry)
        if source is not None:
            rows.append(TimelineRow(is_invoice=False, **source.present(entry), **common))
            continue
        details = []
        if entry.contact_person:
            details.append(_("With %(name)s.") % {"name": entry.contact_person})
        if entry.staff_user:
            details.append(_("Recorded by %(name)s.") % {"name": entry.staff_user})
        code = str(entry.code)
        rows.append(
            TimelineRow(
                is_invoice=False,
                kind=kinds.get(entry.kind, entry.kind),
                title=entry.title,
                text=entry.text,
                details=" ".join(details),
                edit_url=edit_url.replace(sentinel, code),
                delete_url=delete_url.replace(sentinel, code),
                **common,
            )
        )
    return rows
