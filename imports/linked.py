"""What an import of contact persons or interactions would do with each row (issue 15, the second and third file).

Each row names a customer already in the register: a contact person by the organisation's business ID, an
interaction by the customer's business ID or else e-mail address. A customer of another register is not found,
so its rows are invalid like any unknown one. Rows are checked with the staff forms' model validation
(`ContactPerson.full_clean()`, `Interaction.full_clean()`) and the identity-code guard over every cell; the
customers are looked up in bulk, a few queries per chunk. These files only add rows: a row already in the
register (the same person, the same interaction) is a duplicate and left out.
"""

import datetime
import functools
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models.functions import Upper
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer, Interaction
from crm.services import ERROR_RESTRICTED
from crm.validators import normalise_business_id
from registers.models import Register
from registers.validators import ERROR_IDENTITY_CODE, contains_identity_code

from .mapping import KIND_CONTACT_PERSONS, KIND_INTERACTIONS
from .plan import Outcome, RowError

LINKED_FIELDS = {
    KIND_CONTACT_PERSONS: ("business_id", *ContactPerson.DATA_FIELDS),
    KIND_INTERACTIONS: ("business_id", "email", "occurred_at", "kind", "subject", "text"),
}
# The columns that find the customer; every other mapped column fills a field of the new row (a contact
# person's own e-mail address included).
_LINK_FIELDS = {KIND_CONTACT_PERSONS: ("business_id",), KIND_INTERACTIONS: ("business_id", "email")}

ERROR_NO_ORGANISATION = _("No organisation with this business ID is in the register.")
ERROR_NO_CUSTOMER = _("No customer with this business ID or e-mail address is in the register.")
ERROR_SEVERAL_CUSTOMERS = _("Several customers of the register have this e-mail address: give the business ID.")
ERROR_LINK_EMPTY = _("Enter the business ID or the e-mail address of the customer.")
ERROR_BUSINESS_ID_EMPTY = _("Enter the business ID of the organisation.")
ERROR_BAD_TIME = _("Enter a valid time, for example 1.3.2025, 1.3.2025 14.30 or 2025-03-01 14:30.")
ERROR_BAD_INTERACTION_KIND = _("Enter a kind of interaction, for example “note”, “meeting” or “outgoing call”.")
ERROR_SAME_ROW = _("Row %(row)s has the same person or interaction.")
ERROR_CONTACT_EXISTS = _("The organisation already has a contact person with this e-mail address or name.")
ERROR_INTERACTION_EXISTS = _("The customer already has an interaction with this time and subject.")

_TIME_FORMATS = (
    "%d.%m.%Y %H.%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H.%M.%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y klo %H.%M",
    "%d.%m.%Y kl. %H.%M",
    "%d.%m.%Y kl %H.%M",
)
_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y")
# Words of old systems beside the kinds' own names and labels in every language of the site.
_KIND_EXTRA = {
    "puhelu": Interaction.Kind.CALL_OUT,
    "soitto": Interaction.Kind.CALL_OUT,
    "call": Interaction.Kind.CALL_OUT,
    "samtal": Interaction.Kind.CALL_OUT,
    "sähköposti": Interaction.Kind.EMAIL_OUT,
    "email": Interaction.Kind.EMAIL_OUT,
    "e-mail": Interaction.Kind.EMAIL_OUT,
    "e-post": Interaction.Kind.EMAIL_OUT,
    "tapaaminen": Interaction.Kind.MEETING,
    "palaveri": Interaction.Kind.MEETING,
    "möte": Interaction.Kind.MEETING,
    "muistiinpano": Interaction.Kind.NOTE,
    "huomio": Interaction.Kind.NOTE,
    "anteckning": Interaction.Kind.NOTE,
}
_SPACES = re.compile(r"\s+")


def parse_time(text: str) -> datetime.datetime:
    """Return the aware time an ISO or Finnish date (1.3.2025) or date and time (1.3.2025 14.30) names."""
    text = _SPACES.sub(" ", text).strip()
    moment = None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS + _DATE_FORMATS:
            try:
                moment = datetime.datetime.strptime(text, fmt)  # noqa: DTZ007 (made aware below, in local time)
                break
            except ValueError:
                continue
    if moment is None or moment.year < 1900:
        raise ValidationError(ERROR_BAD_TIME, code="invalid_time")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


@functools.cache
def _interaction_kind_words() -> dict[str, str]:
    words = {key: str(value) for key, value in _KIND_EXTRA.items()}
    for code, label in Interaction.Kind.choices:
        words[code] = code
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                words[str(label).casefold()] = code
    return words


def parse_interaction_kind(text: str) -> str:
    """Return the interaction kind a cell names, in Finnish, Swedish or English, or as its code."""
    kind = _interaction_kind_words().get(_SPACES.sub(" ", text).strip().casefold())
    if kind is None:
        raise ValidationError(ERROR_BAD_INTERACTION_KIND, code="invalid_interaction_kind")
    return kind


class LinkedPlanner:
    """Decide, chunk by chunk, what an import of contact persons or interactions does with each row."""

    def __init__(self, *, kind: str, register: Register, mapping: dict[int, str], headers: list[str], actor):
        if kind not in LINKED_FIELDS:
            raise ValueError(f"unknown linked import kind {kind!r}")
        self.kind = kind
        self.model = ContactPerson if kind == KIND_CONTACT_PERSONS else Interaction
        self.register = register
        self.actor = actor
        self.mapping = dict(sorted(mapping.items()))
        self.headers = headers
        self.column_of = {name: self._header(index) for index, name in self.mapping.items()}
        # The keys of the rows accepted so far (customer, person or time and subject) -> their row number.
        self.seen: dict[tuple, int] = {}

    def _header(self, index: int) -> str:
        header = self.headers[index] if index < len(self.headers) else ""
        return header or str(index + 1)

    def _link_column(self) -> str:
        return self.column_of.get("business_id") or self.column_of.get("email", "")

    def _values(self, cells: tuple[str, ...]) -> dict[str, str]:
        values = {}
        for index, name in self.mapping.items():
            cell = str(cells[index]) if index < len(cells) else ""
            values[name] = cell.strip() if name in {"text", "interests"} else _SPACES.sub(" ", cell).strip()
        return values

    def plan(self, rows: Iterable, *, lock: bool = False) -> list[Outcome]:
        """Return the outcome of each row of the chunk (rows: objects with `number` and `cells`)."""
        rows = [(row.number, tuple(row.cells)) for row in rows]
        values = [self._values(cells) for _number, cells in rows]
        by_business_id, by_email = self._customers(values, lock=lock)
        outcomes = [
            self._check(number, cells, row_values, by_business_id, by_email)
            for (number, cells), row_values in zip(rows, values, strict=True)
        ]
        self._duplicates([outcome for outcome in outcomes if outcome.action == "created"])
        return outcomes

    def _customers(self, values: list[dict], *, lock: bool) -> tuple[dict, dict]:
        business_ids = {normalise_business_id(v["business_id"]) for v in values if v.get("business_id")}
        emails = {v["email"].upper() for v in values if v.get("email") and not v.get("business_id")}
        stored = Customer.objects.filter(register=self.register)
        if lock:
            # A customer restricted or deleted meanwhile is seen as it is when the chunk is written.
            stored = stored.select_for_update(of=("self",))
        by_business_id = {c.business_id: c for c in stored.filter(business_id__in=sorted(business_ids))}
        by_email: dict[str, list[Customer]] = {}
        if emails and self.kind == KIND_INTERACTIONS:
            found = stored.annotate(email_upper=Upper("email")).filter(email_upper__in=sorted(emails)).order_by("pk")
            for customer in found:
                by_email.setdefault(customer.email_upper, []).append(customer)
        return by_business_id, by_email

    def _find(self, values: dict, by_business_id: dict, by_email: dict) -> tuple[Customer | None, RowError | None]:
        business_id = values.get("business_id", "")
        email = values.get("email", "") if self.kind == KIND_INTERACTIONS else ""
        missing = ERROR_NO_ORGANISATION if self.kind == KIND_CONTACT_PERSONS else ERROR_NO_CUSTOMER
        if business_id:
            customer = by_business_id.get(normalise_business_id(business_id))
            return customer, None if customer else (self.column_of["business_id"], missing)
        if email:
            found = by_email.get(email.upper(), [])
            if len(found) > 1:
                return None, (self.column_of["email"], ERROR_SEVERAL_CUSTOMERS)
            return (found[0], None) if found else (None, (self.column_of["email"], missing))
        empty = ERROR_LINK_EMPTY if self.kind == KIND_INTERACTIONS else ERROR_BUSINESS_ID_EMPTY
        return None, (self._link_column(), empty)

    def _check(self, number: int, cells: tuple, values: dict, by_business_id: dict, by_email: dict) -> Outcome:
        problems = [
            RowError(number, self._header(index), str(ERROR_IDENTITY_CODE))
            for index, cell in enumerate(cells)
            if isinstance(cell, str) and contains_identity_code(cell)
        ]
        skip = {problem.column for problem in problems}
        customer, link_error = self._find(values, by_business_id, by_email)
        if link_error is not None:
            column, message = link_error
            if column not in skip:
                problems.append(RowError(number, column, str(message)))
            return Outcome(number, "invalid", errors=problems, rejected=True)
        if customer.processing_restricted:
            problems.append(RowError(number, "", str(ERROR_RESTRICTED)))
            return Outcome(number, "invalid", errors=problems, rejected=True)
        data, conversion = self._convert(values)
        record = self._build(customer, data)
        try:
            # The staff form's checks. The customer was found in this register just now and the staff user is the
            # importer: their foreign-key checks would be one query per row each.
            record.full_clean(exclude=["customer", "staff_user", "contact_person"], validate_unique=False)
        except ValidationError as error:
            problems.extend(self._errors(number, error, skip | set(conversion)))
        for column, message in conversion.items():
            if column not in skip:
                problems.append(RowError(number, column, str(message)))
        if problems:
            return Outcome(number, "invalid", errors=problems, rejected=True)
        return Outcome(number, "created", customer=customer, record=record, mapped=data)

    def _convert(self, values: dict) -> tuple[dict, dict]:
        data, errors = {}, {}
        for name, text in values.items():
            if name in _LINK_FIELDS[self.kind] or not text:
                continue
            try:
                if name == "occurred_at":
                    data[name] = parse_time(text)
                elif name == "kind" and self.kind == KIND_INTERACTIONS:
                    data[name] = parse_interaction_kind(text)
                else:
                    data[name] = text
            except ValidationError as error:
                errors[self.column_of[name]] = error.messages[0]
        return data, errors

    def _build(self, customer: Customer, data: dict):
        if self.kind == KIND_CONTACT_PERSONS:
            return ContactPerson(customer=customer, **data)
        data.setdefault("kind", Interaction.Kind.NOTE)  # a file without kinds is a list of notes
        data.setdefault("occurred_at", timezone.now())
        return Interaction(customer=customer, staff_user=self.actor, **data)

    def _errors(self, number: int, error: ValidationError, skip: set[str]) -> list[RowError]:
        found = []
        for name, messages in error.message_dict.items():
            if name == NON_FIELD_ERRORS:
                column = ""
            elif name == "customer":
                column = self._link_column()
            elif name in self.column_of:
                column = self.column_of[name]
            else:
                column = str(self.model._meta.get_field(name).verbose_name)
            if column and column in skip:
                continue
            found.extend(RowError(number, column, str(message)) for message in messages)
        return found

    # Duplicates: within the file, and of rows already in the register.

    def _key(self, record) -> tuple:
        if self.kind == KIND_CONTACT_PERSONS:
            if record.email:
                return (record.customer_id, "e", record.email.upper())
            return (record.customer_id, "n", record.first_name.casefold(), record.last_name.casefold())
        return (record.customer_id, record.occurred_at, record.subject.casefold())

    def _duplicates(self, outcomes: list[Outcome]) -> None:
        if not outcomes:
            return
        customers = {outcome.record.customer_id for outcome in outcomes}
        stored = self.model.objects.filter(customer_id__in=sorted(customers))
        if self.kind == KIND_INTERACTIONS:
            stored = stored.filter(occurred_at__in={outcome.record.occurred_at for outcome in outcomes})
        existing = {self._key(record) for record in stored.only("customer_id", *self._key_fields())}
        for outcome in outcomes:
            key = self._key(outcome.record)
            if key in self.seen:
                outcome.action, outcome.rejected = "duplicate", True
                outcome.errors = [RowError(outcome.row, "", str(ERROR_SAME_ROW % {"row": self.seen[key]}))]
            elif key in existing:
                outcome.action = "duplicate"
                message = ERROR_CONTACT_EXISTS if self.kind == KIND_CONTACT_PERSONS else ERROR_INTERACTION_EXISTS
                outcome.errors = [RowError(outcome.row, "", str(message))]
            else:
                self.seen[key] = outcome.row

    def _key_fields(self) -> tuple[str, ...]:
        if self.kind == KIND_CONTACT_PERSONS:
            return ("email", "first_name", "last_name")
        return ("occurred_at", "subject")
