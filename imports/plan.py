"""What an import would do with each row: the same checks as the staff form, and the match with existing customers.

The preview and the commit both run the rows through `ChunkPlanner`, so what the preview counts is what the
commit does. Rows are checked one by one (`Customer.full_clean()`, the identity-code guard of the Personal*
fields included); the existing customers they match are looked up in bulk, a few queries per chunk of rows.
"""

import dataclasses
import datetime
import re
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from crm.services import ERROR_RESTRICTED
from crm.similarity import Record, is_likely, match_name, reasons_of
from registers.models import Register
from registers.validators import ERROR_IDENTITY_CODE, contains_identity_code

from .models import ImportBatch

# What a column may be mapped to: the customer type, the data fields, and an objection to direct marketing
# the old system recorded (an import may add an objection, never lift one; a restriction of processing
# changes only through the rights steps).
IMPORTABLE_FIELDS = ("kind", *Customer.DATA_FIELDS, "marketing_objection")

ERROR_DUPLICATE_IN_FILE = _("Row %(row)s has the same business ID or e-mail address.")
ERROR_DUPLICATE_MATCH = _("Row %(row)s already matches the same existing customer.")
ERROR_EXISTING = _("A customer with this business ID or e-mail address already exists.")
ERROR_BAD_DATE = _("Enter a valid date, for example 31.12.1980 or 1980-12-31.")
ERROR_BAD_KIND = _("Enter “person” or “organisation”.")
ERROR_BAD_YES_NO = _("Enter “yes” or “no”.")
ERROR_ROW = _("Row %(row)s, column “%(column)s”: %(message)s")
ERROR_ROW_NO_COLUMN = _("Row %(row)s: %(message)s")
# Existing customers a new row of the preview is shown to look like, at most.
LIKELY_PER_ROW = 3
_LIKELY_COLUMNS = ("kind", "match_name", "business_id", "email", "mobile", "landline", "postal_code", "city")

_KIND_WORDS = {
    Customer.Kind.PERSON: {"person", "henkilö", "yksityishenkilö", "privatperson", "p"},
    Customer.Kind.ORGANISATION: {"organisation", "organization", "organisaatio", "yritys", "företag", "yhteisö", "o"},
}
_LANGUAGE_WORDS = {
    "fi": {"fi", "suomi", "finnish", "finska", "fin"},
    "sv": {"sv", "ruotsi", "swedish", "svenska", "swe"},
    "en": {"en", "englanti", "english", "engelska", "eng"},
    "other": {"other", "muu", "annat"},
}
_YES_NO_WORDS = {
    "yes": {"yes", "y", "true", "1", "x", "kyllä", "k", "ja", "j"},
    "no": {"no", "n", "false", "0", "ei", "e", "nej"},
}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
_SPACES = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    @property
    def text(self) -> str:
        if self.column:
            return str(ERROR_ROW % {"row": self.row, "column": self.column, "message": self.message})
        return str(ERROR_ROW_NO_COLUMN % {"row": self.row, "message": self.message})


@dataclasses.dataclass
class Outcome:
    """What the import does with one row."""

    row: int
    action: str  # created, updated, skipped, duplicate, invalid
    customer: Customer | None = None
    before: Customer | None = None  # the stored customer an update starts from
    old_values: dict = dataclasses.field(default_factory=dict)
    mapped: dict = dataclasses.field(default_factory=dict)  # the values the row gives, converted
    record: object | None = None  # the new contact person or interaction (files of those kinds)
    # A row to fix and import again: invalid, or a duplicate within the file (not a match with a stored customer).
    rejected: bool = False
    errors: list[RowError] = dataclasses.field(default_factory=list)


def _json_value(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "as_e164"):  # a parsed phone number
        return value.as_e164 if value.is_valid() else str(value.raw_input)
    return value


def restore_value(name: str, value):
    """Turn a value kept in `ImportedRecord.old_values` back into the field's Python value."""
    return Customer._meta.get_field(name).to_python(value)


def _date(text: str) -> datetime.date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time zone)
        except ValueError:
            continue
    raise ValidationError(ERROR_BAD_DATE, code="invalid_date")


def _word(text: str, words: dict[str, set[str]]) -> str:
    folded = text.casefold()
    for value, names in words.items():
        if folded in names:
            return value
    return text


class ChunkPlanner:
    """Decide, chunk by chunk, what the import does with each row; keeps only what spans chunks (the keys seen)."""

    def __init__(self, *, register: Register, mapping: dict[int, str], headers: list[str], match_mode: str):
        self.register = register
        self.mapping = dict(sorted(mapping.items()))
        self.headers = headers
        self.match_mode = match_mode
        self.column_of = {name: self._header(index) for index, name in self.mapping.items()}
        # Business IDs and upper-cased e-mail addresses of the rows accepted so far -> their row number.
        self.seen: dict[str, int] = {}
        # Existing customers matched so far -> the row that matched them.
        self.matched: dict[int, int] = {}

    def _header(self, index: int) -> str:
        header = self.headers[index] if index < len(self.headers) else ""
        return header or str(index + 1)

    # One row on its own.

    def values(self, cells: tuple[str, ...]) -> dict[str, str]:
        values = {}
        for index, name in self.mapping.items():
            cell = cells[index] if index < len(cells) else ""
            values[name] = _SPACES.sub(" ", str(cell)).strip() if name != "extra_info" else str(cell).strip()
        return values

    def identity_code_errors(self, number: int, cells: tuple[str, ...]) -> list[RowError]:
        """Name every cell of the row, mapped or not, that holds a personal identity code."""
        return [
            RowError(number, self._header(index), str(ERROR_IDENTITY_CODE))
            for index, cell in enumerate(cells)
            if isinstance(cell, str) and contains_identity_code(cell)
        ]

    def _errors(self, number: int, error: ValidationError, skip_columns: set[str]) -> list[RowError]:
        found = []
        for name, messages in error.message_dict.items():
            if name == NON_FIELD_ERRORS:
                column = ""
            elif name in self.column_of:
                column = self.column_of[name]
            else:
                column = str(Customer._meta.get_field(name).verbose_name)
            if column and column in skip_columns:
                continue
            found.extend(RowError(number, column, str(message)) for message in messages)
        return found

    def _convert(self, values: dict[str, str], errors: dict[str, list]) -> dict:
        data = {}
        for name, text in values.items():
            if not text:
                continue
            try:
                if name == "date_of_birth":
                    data[name] = _date(text)
                elif name == "kind":
                    data[name] = _word(text, _KIND_WORDS)
                    if data[name] not in Customer.Kind.values:
                        raise ValidationError(ERROR_BAD_KIND, code="invalid_kind")
                elif name == "language":
                    data[name] = _word(text, _LANGUAGE_WORDS)
                elif name == "marketing_objection":
                    answer = _word(text, _YES_NO_WORDS)
                    if answer not in _YES_NO_WORDS:
                        raise ValidationError(ERROR_BAD_YES_NO, code="invalid_yes_no")
                    if answer == "yes":
                        data[name] = True
                elif name == "business_id":
                    data[name] = "".join(text.split())
                else:
                    data[name] = text
            except ValidationError as error:
                errors.setdefault(name, []).extend(error.messages)
        return data

    @staticmethod
    def _validate(customer: Customer) -> None:
        # The staff form's model validation. The register is the caller's (no query to check it exists);
        # uniqueness is checked in bulk per chunk (`_match`), and the kind check constraint repeats
        # `Customer.clean()`: each of those would otherwise be one query per row.
        customer.full_clean(exclude=["register"], validate_unique=False, validate_constraints=False)

    def check_new(self, number: int, cells: tuple[str, ...]) -> Outcome:
        """Check a row as a new customer; the match with existing customers comes later, per chunk."""
        identity = self.identity_code_errors(number, cells)
        errors: dict[str, list] = {}
        data = self._convert(self.values(cells), errors)
        if "kind" not in data:
            data["kind"] = (
                Customer.Kind.ORGANISATION
                if data.get("organisation_name") or data.get("business_id")
                else Customer.Kind.PERSON
            )
        customer = Customer(register=self.register, source=Customer.Source.IMPORTED, **data)
        if customer.marketing_objection:
            customer.marketing_objection_at = timezone.now()
        problems = [*identity]
        skip = {error.column for error in identity}
        try:
            self._validate(customer)
        except ValidationError as error:
            problems.extend(self._errors(number, error, skip))
        for name, messages in errors.items():
            column = self.column_of.get(name, name)
            if column not in skip and not any(problem.column == column for problem in problems):
                problems.extend(RowError(number, column, str(message)) for message in messages)
        if problems:
            return Outcome(number, "invalid", errors=problems, rejected=True)
        return Outcome(number, "created", customer=customer, mapped=data)

    # A chunk of rows together.

    def plan(self, rows: Iterable, *, lock: bool = False) -> list[Outcome]:
        """Return the outcome of each row of the chunk (rows: objects with `number` and `cells`)."""
        outcomes = [self.check_new(row.number, tuple(row.cells)) for row in rows]
        candidates = [outcome for outcome in outcomes if outcome.action == "created"]
        fresh = []
        for outcome in candidates:
            keys = self._keys(outcome.customer)
            first = next((self.seen[key] for key in keys if key in self.seen), None)
            if first is not None:
                outcome.action, outcome.rejected = "duplicate", True
                outcome.errors = [RowError(outcome.row, "", str(ERROR_DUPLICATE_IN_FILE % {"row": first}))]
                continue
            for key in keys:
                self.seen[key] = outcome.row
            fresh.append(outcome)
        self._match(fresh, lock=lock)
        return outcomes

    @staticmethod
    def _keys(customer: Customer) -> list[str]:
        keys = []
        if customer.business_id:
            keys.append(f"b:{customer.business_id}")
        if customer.email:
            keys.append(f"e:{customer.email.upper()}")
        return keys

    def _match(self, outcomes: list[Outcome], *, lock: bool) -> None:
        business_ids = {o.customer.business_id for o in outcomes if o.customer.business_id}
        emails = {o.customer.email.upper() for o in outcomes if o.customer.email}
        stored = Customer.objects.filter(register=self.register)
        if lock:
            # The matched customers stay as read until the chunk's transaction ends: no edit slips in between.
            stored = stored.select_for_update(of=("self",))
        by_business_id = {c.business_id: c for c in stored.filter(business_id__in=sorted(business_ids))}
        by_email: dict[str, Customer] = {}
        if emails:
            rows = stored.annotate(email_upper=Upper("email")).filter(email_upper__in=sorted(emails)).order_by("pk")
            for customer in rows:
                by_email.setdefault(customer.email_upper, customer)
        for outcome in outcomes:
            new = outcome.customer
            match = by_business_id.get(new.business_id) if new.business_id else None
            if match is None and new.email:
                candidate = by_email.get(new.email.upper())
                # An e-mail address names the same customer only if the business IDs do not disagree.
                if candidate is not None and not (new.business_id and candidate.business_id):
                    match = candidate
            if match is not None:
                self._update(outcome, match)

    def _update(self, outcome: Outcome, match: Customer) -> None:
        number = outcome.row
        if match.pk in self.matched:
            outcome.action, outcome.rejected = "duplicate", True
            outcome.errors = [RowError(number, "", str(ERROR_DUPLICATE_MATCH % {"row": self.matched[match.pk]}))]
            return
        self.matched[match.pk] = number
        if self.match_mode == ImportBatch.MatchMode.SKIP:
            outcome.action = "duplicate"
            outcome.errors = [RowError(number, "", str(ERROR_EXISTING))]
            return
        if match.processing_restricted:
            outcome.action, outcome.rejected = "invalid", True
            outcome.errors = [RowError(number, "", str(ERROR_RESTRICTED))]
            return
        before = Customer(**{f.attname: getattr(match, f.attname) for f in Customer._meta.concrete_fields})
        before._state.adding = False
        changed = {}
        for name, value in outcome.mapped.items():
            if name == "kind":
                continue  # an import never turns a person into an organisation
            if name == "marketing_objection":
                if not match.marketing_objection:
                    changed[name] = True
                    changed["marketing_objection_at"] = timezone.now()
                continue
            current = getattr(match, name)
            if self.match_mode == ImportBatch.MatchMode.FILL_EMPTY and current not in (None, ""):
                continue
            if current != value:
                changed[name] = value
        if not changed:
            outcome.action = "skipped"
            return
        for name, value in changed.items():
            setattr(match, name, value)
        match.register = self.register
        try:
            self._validate(match)
        except ValidationError as error:
            outcome.action, outcome.rejected = "invalid", True
            outcome.errors = self._errors(number, error, set())
            return
        # Values compared after cleaning: a phone number typed another way may be the same number.
        old_values = {
            name: _json_value(getattr(before, name))
            for name in changed
            if _json_value(getattr(before, name)) != _json_value(getattr(match, name))
        }
        if not old_values:
            outcome.action = "skipped"
            return
        old_values["source"] = before.source
        match.source = Customer.Source.IMPORTED
        outcome.action = "updated"
        outcome.customer = match
        outcome.before = before
        outcome.old_values = old_values

    def likely_duplicates(self, outcomes: list[Outcome]) -> dict[int, list[tuple[str, list[dict]]]]:
        """Return {row: [(existing customer's code, reasons)]} for the chunk's new customers that look like one.

        One query per chunk: the register's customers whose match name (crm.similarity.match_name) is a new
        row's, then the place or an identifier must agree as on the new-customer form. A name with a typo is
        left to the nightly scan: a trigram search per row would cost the preview minutes at 100,000 rows.
        """
        new: dict[int, tuple[str, Customer]] = {}
        for outcome in outcomes:
            customer = outcome.customer
            if outcome.action != "created" or customer is None:
                continue
            name = match_name(customer.kind, customer.organisation_name, customer.first_name, customer.last_name)
            if name:
                new[outcome.row] = (name, customer)
        if not new:
            return {}
        stored: dict[tuple[str, str], list[tuple[str, Record]]] = defaultdict(list)
        names = sorted({name for name, _customer in new.values()})
        rows = Customer.objects.filter(register=self.register, match_name__in=names).values_list(
            "code", *_LIKELY_COLUMNS
        )
        for code, *values in rows:
            record = Record.from_values(dict(zip(_LIKELY_COLUMNS, values, strict=True)))
            stored[(record.kind, record.match_name)].append((str(code), record))
        found: dict[int, list[tuple[str, list[dict]]]] = {}
        for row, (name, customer) in new.items():
            same_name = stored.get((customer.kind, name))
            if not same_name:
                continue  # most rows: nothing more to build
            values = {field: getattr(customer, field) for field in _LIKELY_COLUMNS[2:]}
            record = Record.from_values({**values, "kind": customer.kind, "match_name": name})
            for code, other in same_name:
                reasons = reasons_of(record, other, similarity=1.0)
                if is_likely(reasons):
                    found.setdefault(row, []).append((code, reasons))
            if row in found:
                found[row] = found[row][:LIKELY_PER_ROW]
        return found
