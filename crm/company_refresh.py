"""The nightly refresh of organisations from the company register (PRH open data), and its change decisions.

`company_register_refresh` compares every organisation customer that has a business ID, in every register,
with the companies of PRH's daily file. It never makes a request per customer and never loads the file:
one query finds (business ID, customer pk) for all organisations, then the companies are streamed and the
matching customers are read, compared and written in batches of BATCH_SIZE, each with a constant number
of queries. The whole run is one transaction, so a file that breaks off (CompanyRegisterUnavailable from
`companies.client.all_companies`) or any other error leaves every customer as it was: a company missing
from half a file must never read as changed.

What a run writes:
- the status and facts of every matched customer, and the time they were fetched;
- a changed organisation name or address (street, postal code, city; the address only where the register
  collects it) as a CompanyChange: proposed to staff, or applied at once when the register says so
  (`Register.company_updates`). The same value is never proposed twice; an older proposal for the same
  field that the register no longer says is dismissed by the run.
Bulk writes leave no auditlog entries of their own, so the run writes them: one per customer whose status,
facts, name or address changed and one per CompanyChange created or dismissed, with no actor (the system)
and the register in `additional_data` as `registers.audit_scope` keeps it. The daily time stamp alone is
not logged: 100,000 entries a night would bury every real change.

A customer whose processing is restricted is compared but never written: a restriction stops every change.
"""

import copy
import dataclasses
import datetime
import logging
from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.facts import CompanyFacts, CompanyStatus
from registers import roles
from registers.audit_chain import chained_bulk_create
from registers.audit_context import set_actor
from registers.audit_scope import REGISTER_KEY
from registers.models import CustomerField, Register
from registers.selectors import user_can

from .company_register import company_record
from .models import CompanyChange, Customer
from .selectors import customer_list
from .services import _guard_restriction

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# What the audit entries of the run say wrote them (there is no actor).
AUDIT_SOURCE = "company register refresh"
NAME_FIELD = "organisation_name"
ADDRESS_FIELDS = ("street_address", "postal_code", "city")
CHANGE_FIELDS = (NAME_FIELD, *ADDRESS_FIELDS)
FACT_FIELDS = ("company_status", "company_facts", "company_data_fetched_at")

ERROR_CHANGE_DECIDED = _("This change has already been decided.")
ERROR_NO_CHANGE_RIGHT = _("You may not change the data of this register.")
ERROR_UNKNOWN_FIELD = _("This change names a field that cannot be changed from the company register.")


@dataclasses.dataclass
class RefreshResult:
    """What one refresh did, counted in customers (proposed and applied count changes of single fields)."""

    compared: int = 0  # organisation customers found in the file
    updated: int = 0  # of those, customers whose status, facts, name or address changed
    proposed: int = 0
    applied: int = 0
    flagged: int = 0  # compared customers that are not active (liquidation, bankruptcy, restructuring, ceased)
    unknown: int = 0  # organisation customers whose business ID is not in the file
    restricted: int = 0  # compared customers left untouched because their processing is restricted
    companies: int = 0  # companies read from the file


@dataclasses.dataclass
class _Register:
    collects_address: bool
    applies: bool


def _registers() -> dict[int, _Register]:
    return {
        pk: _Register(
            collects_address=CustomerField.ADDRESS in (collected or []),
            applies=updates == Register.CompanyUpdates.APPLY,
        )
        for pk, collected, updates in Register.objects.values_list("pk", "collected_fields", "company_updates")
    }


def _organisations_by_business_id() -> dict[str, list[int] | int]:
    """Return {business ID: customer pk, or a list of pks when several customers share it}."""
    index: dict[str, list[int] | int] = {}
    rows = (
        Customer.objects.filter(kind=Customer.Kind.ORGANISATION)
        .exclude(business_id="")
        .values_list("business_id", "pk")
        .iterator(chunk_size=10_000)
    )
    for business_id, pk in rows:
        # Most business IDs name one customer: a bare int keeps the index small at 100,000 customers.
        held = index.get(business_id)
        if held is None:
            index[business_id] = pk
        elif isinstance(held, list):
            held.append(pk)
        else:
            index[business_id] = [held, pk]
    return index


def _same(a: str, b: str) -> bool:
    # PRH writes post offices in capitals ("HELSINKI"); a customer's "Helsinki" is the same city.
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _city(value: str) -> str:
    return value.title() if value.isupper() else value


def register_values(facts: CompanyFacts) -> dict[str, str]:
    """Return the name and address the company register gives, as a customer's fields (empty when it gives none)."""
    # The visiting address, else the postal one: what the look-up fills in on the new-organisation form.
    address = facts.address
    return {
        NAME_FIELD: facts.name,
        "street_address": address.street,
        "postal_code": address.post_code,
        "city": _city(address.city),
    }


def _writable(name: str, value: str) -> bool:
    """Tell whether the customer's field can hold the value: its length, and no identity code in it."""
    field = Customer._meta.get_field(name)
    try:
        field.run_validators(value)
    except ValidationError:
        return False
    return not field.write_errors(value)


class _Batch:
    """Matched (customer pk, company) pairs waiting to be compared and written together."""

    def __init__(self, *, fetched_at: datetime.datetime, registers: dict[int, _Register], result: RefreshResult):
        self.fetched_at = fetched_at
        self.registers = registers
        self.result = result
        self.pending: dict[int, CompanyFacts] = {}
        self.customer_type = ContentType.objects.get_for_model(Customer)
        self.change_type = ContentType.objects.get_for_model(CompanyChange)
        self.use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
        self.cid = get_cid()

    def add(self, pk: int, facts: CompanyFacts) -> None:
        self.pending[pk] = facts
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Compare and write the pending customers with a constant number of queries."""
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        customers = Customer.objects.select_for_update().filter(pk__in=list(pending)).only(*_CUSTOMER_COLUMNS)
        open_changes: dict[tuple[int, str], list[CompanyChange]] = {}
        for change in CompanyChange.objects.filter(customer_id__in=list(pending), state=CompanyChange.State.PROPOSED):
            open_changes.setdefault((change.customer_id, change.field), []).append(change)
        now = timezone.now()
        self.changed: list[Customer] = []
        self.touched: list[int] = []
        self.created: list[tuple[CompanyChange, int]] = []
        self.dismissed: list[tuple[CompanyChange, CompanyChange, int]] = []
        self.entries: list[LogEntry] = []
        for customer in customers:
            self._compare(customer, pending[customer.pk], open_changes, now)
        if self.changed:
            Customer.objects.bulk_update(self.changed, _WRITTEN_COLUMNS, batch_size=BATCH_SIZE)
        if self.touched:
            Customer.objects.filter(pk__in=self.touched).update(company_data_fetched_at=self.fetched_at)
        if self.dismissed:
            CompanyChange.objects.bulk_update(
                [new for new, _old, _r in self.dismissed], ["state", "decided_at", "updated_at"]
            )
            self.entries.extend(self._entry(new, old, register_pk) for new, old, register_pk in self.dismissed)
        if self.created:
            # bulk_create sets the pks (PostgreSQL, SQLite 3.35+) that the audit entries name.
            CompanyChange.objects.bulk_create([change for change, _r in self.created])
            self.entries.extend(self._entry(change, None, register_pk) for change, register_pk in self.created)
        if self.entries:
            chained_bulk_create(LogEntry, self.entries)

    def _compare(self, customer: Customer, facts: CompanyFacts, open_changes: dict, now) -> None:
        result = self.result
        result.compared += 1
        if facts.status != CompanyStatus.ACTIVE:
            result.flagged += 1
        if customer.processing_restricted:
            result.restricted += 1
            return
        before = copy.copy(customer)
        record = company_record(facts, self.fetched_at)
        customer.company_status = record["status"]
        # PRH's own time of its last change, kept to tell later which companies changed.
        customer.company_facts = {**record["facts"], "last_modified": facts.last_modified}
        customer.company_data_fetched_at = self.fetched_at
        register = self.registers[customer.register_id]
        applied = self._name_and_address(customer, facts, register, open_changes, now)
        if not applied and (before.company_status, before.company_facts) == (
            customer.company_status,
            customer.company_facts,
        ):
            self.touched.append(customer.pk)
            return
        result.updated += 1
        if applied:
            # The sort name follows a new name (the new values were checked by _writable, so no write_errors here:
            # it would read every deferred column).
            customer.normalise()
            customer.version += 1
        customer.updated_at = now
        self.changed.append(customer)
        self.entries.append(self._entry(customer, before, customer.register_id, fields=_AUDITED_COLUMNS))

    def _name_and_address(self, customer, facts, register: _Register, open_changes: dict, now) -> bool:
        """Record the name and address changes of one customer; return whether any was applied to it."""
        applied = False
        values = register_values(facts)
        for name in CHANGE_FIELDS if register.collects_address else (NAME_FIELD,):
            new, old = values[name], getattr(customer, name)
            # A part the register leaves out (a ceased company has no address) never clears what staff keep.
            if not new or _same(new, old) or not _writable(name, new):
                continue
            proposed = open_changes.get((customer.pk, name), [])
            if not register.applies and any(change.new_value == new for change in proposed):
                continue
            for change in proposed:
                # The register has moved on: the older proposal no longer says what the register says.
                previous = copy.copy(change)
                change.state = CompanyChange.State.DISMISSED
                change.decided_at = change.updated_at = now
                self.dismissed.append((change, previous, customer.register_id))
            open_changes[(customer.pk, name)] = []
            change = CompanyChange(customer_id=customer.pk, field=name, old_value=old, new_value=new)
            change.created_at = change.updated_at = now
            if register.applies:
                change.state, change.decided_at = CompanyChange.State.APPLIED, now
                setattr(customer, name, new)
                applied = True
                self.result.applied += 1
            else:
                self.result.proposed += 1
            self.created.append((change, customer.register_id))
        return applied

    def _entry(self, obj, before, register_pk: int, *, fields=None) -> LogEntry:
        return LogEntry(
            content_type=self.customer_type if isinstance(obj, Customer) else self.change_type,
            object_pk=str(obj.pk),
            object_id=obj.pk,
            object_repr=str(obj),
            action=LogEntry.Action.CREATE if before is None else LogEntry.Action.UPDATE,
            changes=model_instance_diff(before, obj, fields_to_check=fields, use_json_for_changes=self.use_json),
            changes_text="",
            actor=None,
            timestamp=obj.updated_at,
            cid=self.cid,
            additional_data={REGISTER_KEY: register_pk, "source": AUDIT_SOURCE},
        )


_CUSTOMER_COLUMNS = (
    "pk",
    "register_id",
    "kind",
    "first_name",
    "last_name",
    "business_id",
    "processing_restricted",
    "sort_name",
    "match_name",
    *CHANGE_FIELDS,
    *FACT_FIELDS,
    "version",
)
# match_name follows a new name as sort_name does (duplicate detection compares it).
_WRITTEN_COLUMNS = (*FACT_FIELDS, *CHANGE_FIELDS, "sort_name", "match_name", "version", "updated_at")
# The fetch time changes every night and is not a change of the customer.
_AUDITED_COLUMNS = ("company_status", "company_facts", *CHANGE_FIELDS)


@transaction.atomic
def company_register_refresh(*, companies: Iterable[CompanyFacts], fetched_at: datetime.datetime) -> RefreshResult:
    """Compare every organisation customer with the company register's companies and record what changed.

    One transaction: if `companies` raises (a daily file that breaks off), nothing is written.
    """
    result = RefreshResult()
    index = _organisations_by_business_id()
    batch = _Batch(fetched_at=fetched_at, registers=_registers(), result=result)
    for facts in companies:
        result.companies += 1
        held = index.pop(facts.business_id, None)
        if held is None:
            continue
        for pk in held if isinstance(held, list) else (held,):
            batch.add(pk, facts)
    batch.flush()
    # What is left was not in the file. It is only counted: PRH's file holds the trade register and pending
    # entries, so a missing company is not a ceased one.
    result.unknown = sum(len(held) if isinstance(held, list) else 1 for held in index.values())
    logger.info("Company register refresh: %s", result)
    return result


# Decisions on proposed changes (the customer page).


def _require_change_right(actor, change: CompanyChange) -> None:
    if not user_can(user=actor, register=change.customer.register, perm=roles.CHANGE_DATA):
        raise PermissionDenied(ERROR_NO_CHANGE_RIGHT)


def _locked_proposal(change: CompanyChange) -> CompanyChange:
    # The stored state, locked: two users deciding at once, or a refresh dismissing it meanwhile, decide once.
    stored = CompanyChange.objects.select_for_update().select_related("customer__register").get(pk=change.pk)
    if stored.state != CompanyChange.State.PROPOSED:
        raise ValidationError(ERROR_CHANGE_DECIDED, code="decided")
    return stored


@transaction.atomic
def company_change_apply(*, actor, change: CompanyChange) -> CompanyChange:
    """Apply a proposed name or address change to the organisation."""
    _require_change_right(actor, change)
    change = _locked_proposal(change)
    if change.field not in CHANGE_FIELDS:
        raise ValidationError(ERROR_UNKNOWN_FIELD, code="field")
    customer = Customer.objects.select_for_update().get(pk=change.customer_id)
    _guard_restriction(customer)
    setattr(customer, change.field, change.new_value)
    customer.full_clean()
    customer.version = F("version") + 1
    change.state, change.decided_by, change.decided_at = CompanyChange.State.APPLIED, actor, timezone.now()
    change.full_clean()
    with set_actor(actor):
        customer.save()
        change.save()
    return change


@transaction.atomic
def company_change_dismiss(*, actor, change: CompanyChange) -> CompanyChange:
    """Dismiss a proposed name or address change: the organisation keeps its own."""
    _require_change_right(actor, change)
    change = _locked_proposal(change)
    change.state, change.decided_by, change.decided_at = CompanyChange.State.DISMISSED, actor, timezone.now()
    change.full_clean()
    with set_actor(actor):
        change.save()
    return change


def company_change_list(*, user, customer: Customer) -> QuerySet[CompanyChange]:
    """Return the proposed changes of an organisation the user may see, oldest first."""
    visible = customer_list(user=user, register=customer.register).filter(pk=customer.pk)
    return CompanyChange.objects.filter(customer__in=visible.values("pk"), state=CompanyChange.State.PROPOSED).order_by(
        "created_at", "pk"
    )
