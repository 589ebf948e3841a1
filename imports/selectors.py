"""Permission-aware reads of import batches: scoped by the registers the user may import into."""

from django.db.models import QuerySet
from django.http import Http404

from crm.selectors import user_may_import
from registers.models import Register

from .models import ImportBatch, ImportedRecord, ImportEvent


def import_batch_list(*, user, register: Register) -> QuerySet[ImportBatch]:
    """Return the register's import batches, newest first, for a user who may import there (else none)."""
    if not user_may_import(user=user, register=register):
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
