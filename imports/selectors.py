"""Permission-aware reads of import batches: scoped by the registers the user may import into."""

import dataclasses

from django.db.models import QuerySet
from django.http import Http404

from crm.models import Customer
from crm.selectors import customer_list, user_may_import, user_may_read_keeper_records
from crm.similarity import reason_labels
from registers.models import Register

from .models import ImportBatch, ImportedRecord, ImportEvent

# What the preview shows of an existing customer that a new row looks like.
NAME_FIELDS = ("kind", "organisation_name", "first_name", "last_name")


def import_batch_list(*, user, register: Register) -> QuerySet[ImportBatch]:
    """Return the register's import batches, newest first, for a user who may import there or read the keepers'
    records (else none)."""
    if not (
        user_may_import(user=user, register=register) or user_may_read_keeper_records(user=user, register=register)
    ):
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(register=register).select_related("created_by", "undone_by")


def import_batch_get_for_user(*, user, register: Register, code) -> ImportBatch:
    """Return the batch or raise 404, also for another register's batch or a user without the import right."""
    try:
        return import_batch_list(user=user, register=register).get(code=code)
    except (ImportBatch.DoesNotExist, ValueError):
        raise Http404 from None


def import_event_list(*, batch: ImportBatch) -> QuerySet[ImportEvent]:
    """Return the batch's moves in order."""
    return batch.events.select_related("actor")


def import_kept_list(*, batch: ImportBatch) -> QuerySet[ImportedRecord]:
    """Return the records an undo kept, with their customers (contact persons, interactions), in file order."""
    related = ("customer__register", "contact_person__customer__register", "interaction__customer__register")
    return batch.records.exclude(kept="").select_related(*related).order_by("row_number")


@dataclasses.dataclass
class LikelyDuplicateRow:
    """A new row of the preview that looks like an existing customer, with why."""

    row: int
    customer: Customer
    reasons: list

    @property
    def labels(self) -> list[str]:
        return reason_labels(self.reasons)


def preview_likely_duplicates(*, user, batch: ImportBatch) -> tuple[list[LikelyDuplicateRow], int]:
    """Return the stored preview's new rows that look like existing customers the user may see, and their count."""
    event = batch.events.filter(new=ImportBatch.State.PREVIEWED).order_by("-at", "-id").first()
    payload = event.payload if event is not None and batch.previewed_at is not None else {}
    stored = payload.get("likely_duplicates", [])
    customers = customer_list(user=user, register=batch.register).filter(
        code__in={code for _row, code, _reasons in stored}
    )
    by_code = {str(customer.code): customer for customer in customers.only("code", "register__slug", *NAME_FIELDS)}
    rows = [LikelyDuplicateRow(row, by_code[code], reasons) for row, code, reasons in stored if code in by_code]
    return rows, payload.get("likely_rows", 0)
