"""Files that leave the system: the customer CSV and mailing labels (CSV and PDF).

The CSV is streamed: rows are read in keyset chunks (`keyset_rows`) and
written one at a time, so 100,000 customers need no more memory than 2,000.
Only the fields the register collects are written. Cells that a spreadsheet
would run as a formula get a ' in front (`registers.spreadsheet`, OWASP "CSV injection").
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from phonenumber_field.modelfields import PhoneNumberField

from registers import replica
from registers.models import Register
from registers.spreadsheet import FORMULA_FIRST, spreadsheet_cell, spreadsheet_row

from .models import ContactPerson, Customer

CHUNK_SIZE = 2000
MAX_PDF_LABELS = 1200  # 50 A4 sheets: a few seconds of WeasyPrint; longer mailings use the CSV.
LABELS_PER_ROW = 3
CSV_DELIMITER = ";"  # Excel in Finnish and Swedish locales splits columns on semicolons.
DOMESTIC_COUNTRIES = {"", "finland", "suomi", "fi"}


@dataclass(frozen=True)
class Column:
    name: str
    label: object
    format: Callable[[object], str] | None = None


# Converters are built once per export, in the request's language, and then
# run for every cell: 100,000 rows make two million calls.


def _yes_no() -> Callable[[object], str]:
    yes, no = str(_("yes")), str(_("no"))
    return lambda value: yes if value else no


def _local_datetime() -> Callable[[object], str]:
    # Files carry ISO 8601 in local time: spreadsheets sort it, whatever the reader's language.
    zone = timezone.get_current_timezone()
    return lambda value: value.astimezone(zone).isoformat(sep=" ", timespec="minutes")[:16] if value else ""


def _date(value) -> str:
    return value.isoformat() if value else ""


def _choice(choices) -> Callable[[object], str]:
    labels = {key: str(label) for key, label in choices}
    return lambda value: labels.get(value, value or "")


def _label(name: str):
    return Customer._meta.get_field(name).verbose_name


def customer_columns(register: Register) -> list[Column]:
    """Return the CSV columns: names and type, the register's collected fields, marketing and activity."""
    columns = [
        Column("kind", _label("kind"), _choice(Customer.Kind.choices)),
        Column("organisation_name", _label("organisation_name")),
        Column("first_name", _label("first_name")),
        Column("last_name", _label("last_name")),
    ]
    for name in Customer.fields_collected_by(register):
        field = Customer._meta.get_field(name)
        if field.choices:
            columns.append(Column(name, field.verbose_name, _choice(field.choices)))
        elif name == "date_of_birth":
            columns.append(Column(name, field.verbose_name, _date))
        else:
            columns.append(Column(name, field.verbose_name))
    columns += [
        Column("marketing_objection", _label("marketing_objection"), _yes_no()),
        Column("processing_restricted", _label("processing_restricted"), _yes_no()),
        Column("last_activity_at", _label("last_activity_at"), _local_datetime()),
    ]
    return columns


def list_columns(register: Register) -> list[Column]:
    """Return the optional columns of the customer list table that this register collects."""
    return [
        Column(name, _label(name))
        for name in ("business_id", "email", "mobile", "city")
        if name in Customer.fields_collected_by(register)
    ]


def customer_values(customers: QuerySet[Customer], columns: list[Column]) -> QuerySet:
    """Return the customers as value tuples in the order of `columns`, in name order."""
    # Phone columns are read as plain text: parsing 300,000 numbers back into
    # PhoneNumber objects would cost seconds, and E.164 is what a file needs.
    raw = {
        f"{column.name}_text": Cast(column.name, output_field=CharField())
        for column in columns
        if isinstance(Customer._meta.get_field(column.name), PhoneNumberField)
    }
    names = [f"{column.name}_text" if f"{column.name}_text" in raw else column.name for column in columns]
    return customers.annotate(**raw).order_by("sort_name", "id").values_list(*names)


def _keyset_order(rows: QuerySet) -> list[tuple[str, bool]]:
    """Return the order as (field, descending) pairs, ending with the primary key so that every key is unique."""
    query = rows.query
    names = query.order_by or (rows.model._meta.ordering if query.default_ordering else ())
    pk = rows.model._meta.pk.name
    order = []
    for name in names:
        if not isinstance(name, str) or name.lstrip("-") in ("", "?"):
            raise ValueError(f"A keyset needs fields to order by, not {name!r}")
        field = name.lstrip("-")
        order.append((pk if field == "pk" else field, name.startswith("-")))
    if not order or order[-1][0] != pk:
        order.append((pk, order[-1][1] if order else False))
    return order


def _after(order: list[tuple[str, bool]], key: tuple) -> Q:
    """Return the rows after `key` in `order`: (a, b) > (x, y) is a > x, or a = x and b > y.

    The extra bound a >= x lets an index on (a, b) start at the key instead of filtering from the start.
    """
    after, equal = Q(), {}
    for (field, descending), value in zip(order, key, strict=True):
        if value is None:
            raise ValueError(f"A keyset cannot continue after a NULL {field}")
        after |= Q(**equal, **{f"{field}__{'lt' if descending else 'gt'}": value})
        equal[field] = value
    (first, descending), start = order[0], key[0]
    return after & Q(**{f"{first}__{'lte' if descending else 'gte'}": start})


def keyset_rows(rows: QuerySet, *, chunk_size: int | None = None) -> Iterator[tuple]:
    """Yield the rows of an ordered `values_list` query, CHUNK_SIZE per query, each continuing after the last key.

    Each chunk is a short query of its own, on the database `rows` reads (`.using()`, or the router's choice):
    behind pgbouncer in transaction mode a server-side cursor cannot outlive its transaction, and a client-side one
    would read every row into memory before the first is written. No transaction stays open while the file
    downloads, so a slow client holds no pooled connection and no snapshot on a replica. A chunk that fails on the
    replica is read again from the primary (`registers.replica.read_or_fall_back`).

    The order is the query's, with the primary key added when it does not end with it; the key fields must not be
    NULL. A row whose key changes during the download may be written twice or not at all, as between two clicks.
    """
    chunk_size = chunk_size or CHUNK_SIZE
    order = _keyset_order(rows)
    keys = {f"keyset_{index}": F(field) for index, (field, _descending) in enumerate(order)}
    keyed = rows.order_by(*(f"-{field}" if descending else field for field, descending in order)).annotate(**keys)
    width, using = len(keys), rows.db
    chunk_query = keyed
    while True:
        chunk = replica.read_or_fall_back(lambda db, query=chunk_query: list(query.using(db)[:chunk_size]), using=using)
        for row in chunk:
            yield row[:-width]
        if len(chunk) < chunk_size:
            return
        chunk_query = keyed.filter(_after(order, chunk[-1][-width:]))


def count(rows: QuerySet) -> int:
    """Count an export's rows on its database: the primary if the replica fails meanwhile."""
    return replica.read_or_fall_back(lambda using: rows.using(using).count(), using=rows.db)


def customer_csv_rows(rows: QuerySet, columns: list[Column]) -> Iterator[list[str]]:
    """Yield the header and one list of cells per customer, reading the rows in chunks."""
    yield [capfirst(str(column.label)) for column in columns]
    converters = [column.format for column in columns]
    for row in keyset_rows(rows):
        cells = []
        for value, convert in zip(row, converters, strict=True):
            text = convert(value) if convert is not None else ("" if value is None else value)
            # The guard's first-character test, repeated here: of two million cells nearly
            # none needs a ', and those then cost no function call.
            cells.append(spreadsheet_cell(text) if text[:1] in FORMULA_FIRST else text)
        yield cells


class _Echo:
    """A file-like object whose write() returns the text, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _encode(rows: Iterable[list[str]]) -> Iterator[bytes]:
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    # A byte-order mark lets spreadsheet programs recognise UTF-8 (ä, ö, å).
    yield "\ufeff".encode()
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(row))
        # Sending a few hundred rows per chunk keeps the number of writes low.
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def filename(register: Register, what: str, extension: str) -> str:
    return f"{register.slug}-{what}-{timezone.localdate():%Y%m%d}.{extension}"


def csv_response(rows: Iterable[list[str]], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_encode(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


LABEL_FIELDS = (
    "kind",
    "organisation_name",
    "first_name",
    "last_name",
    "street_address",
    "postal_code",
    "city",
    "country",
)
# Posti's addressing guide puts the person an organisation's letter is for on
# the line below its name, after a word that depends on the letter's language.
# These are postal conventions rather than interface text, so they are fixed
# here and do not follow the translation catalogues.
ATTENTION_WORDS = {"fi": "Huom.", "sv": "Att.", "en": "Attn."}
# A label's text is set at the largest of these sizes at which it fits: 58 x 37 mm
# inside the label's margins, about 0.6 em a character (DejaVu Sans, erring on
# the wide side) and lines of 1.3 em. The template has a rule per class.
LABEL_SIZES = (("", 10), ("small", 8), ("smaller", 6.5))  # (class, points)
LABEL_WIDTH_PT = 58 / 25.4 * 72
LABEL_HEIGHT_PT = 37 / 25.4 * 72


def label_queryset(customers: QuerySet[Customer]) -> QuerySet:
    """Return the address rows of the customers that have a street address, in name order.

    Each row ends with the customer's language and the name of the contact
    person listed first on the customer's page, for the attention line.
    """
    contacts = ContactPerson.objects.filter(customer=OuterRef("pk")).order_by(*ContactPerson._meta.ordering)
    return (
        customers.exclude(street_address="")
        .annotate(
            contact_first_name=Subquery(contacts.values("first_name")[:1]),
            contact_last_name=Subquery(contacts.values("last_name")[:1]),
        )
        .order_by("sort_name", "id")
        .values_list(*LABEL_FIELDS, "language", "contact_first_name", "contact_last_name")
    )


def attention_line(kind: str, language: str, first_name: str | None, last_name: str | None) -> str:
    """Return "Huom. Maija Virtanen" for an organisation with a contact person, in the customer's language.

    A customer without a language of Finnish, Swedish or English gets the
    language of the person printing, and failing that English.
    """
    contact = f"{first_name or ''} {last_name or ''}".strip()
    if kind != Customer.Kind.ORGANISATION or not contact:
        return ""
    word = ATTENTION_WORDS.get(language) or ATTENTION_WORDS.get(get_language() or "", ATTENTION_WORDS["en"])
    return f"{word} {contact}"


def label_lines(row, attention: str = "") -> list[str]:
    kind, organisation_name, first_name, last_name, street, postal_code, city, country = row
    name = Customer.name_from(kind, organisation_name, first_name, last_name)
    lines = [name, attention, street, f"{postal_code} {city}".strip()]
    # Posti's addressing guide: the country is written only on mail abroad.
    if country.strip().casefold() not in DOMESTIC_COUNTRIES:
        lines.append(country.upper())
    return [line for line in lines if line]


def _label_parts(row) -> tuple[tuple, str]:
    *address, language, contact_first_name, contact_last_name = row
    return tuple(address), attention_line(address[0], language, contact_first_name, contact_last_name)


LABEL_HEADER = (
    gettext_lazy("name"),
    gettext_lazy("street address"),
    gettext_lazy("postal code"),
    gettext_lazy("city"),
    gettext_lazy("country"),
    gettext_lazy("attention line"),
)


def label_csv_rows(rows: QuerySet) -> Iterator[list[str]]:
    yield [capfirst(str(label)) for label in LABEL_HEADER]
    for row in keyset_rows(rows):
        (kind, organisation_name, first_name, last_name, street, postal_code, city, country), attention = _label_parts(
            row
        )
        name = Customer.name_from(kind, organisation_name, first_name, last_name)
        yield spreadsheet_row(name, street, postal_code, city, country, attention)


@dataclass(frozen=True)
class PrintedLabel:
    text: str
    size: str  # The class of the template's font size.


def _label_size(lines: list[str]) -> str:
    """Return the class of the largest type at which the lines, wrapped to the label's width, fit its height."""
    for size_class, points in LABEL_SIZES:
        per_line = int(LABEL_WIDTH_PT / (points * 0.6))
        printed = sum(max(1, -(-len(line) // per_line)) for line in lines)
        if printed * points * 1.3 <= LABEL_HEIGHT_PT:
            return size_class
    return LABEL_SIZES[-1][0]


def _printed_label(lines: list[str]) -> PrintedLabel:
    # One text per label, its lines kept by `white-space: pre-line`: fewer boxes for WeasyPrint to lay out.
    return PrintedLabel(text="\n".join(lines), size=_label_size(lines))


def labels_html(rows: QuerySet, *, request=None) -> str:
    """Return the HTML of the label sheets, at most MAX_PDF_LABELS labels."""
    read = replica.read_or_fall_back(lambda using: list(rows.using(using)[:MAX_PDF_LABELS]), using=rows.db)
    labels = [label_lines(*_label_parts(row)) for row in read]
    texts = [_printed_label(lines) for lines in labels]
    table = [texts[start : start + LABELS_PER_ROW] for start in range(0, len(texts), LABELS_PER_ROW)]
    return render_to_string("crm/customer_labels.html", {"labels": labels, "rows": table}, request=request)


def labels_pdf(rows: QuerySet, *, request=None) -> bytes:
    """Render A4 sheets of 3 x 8 labels (70 x 37 mm) with WeasyPrint."""
    from weasyprint import HTML  # Imported here: loading Pango costs time that only this export needs.

    return HTML(string=labels_html(rows, request=request)).write_pdf()


def pdf_response(content: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
