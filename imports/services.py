"""Import of customers from a file: preview, commit in batches, undo (issue 15).

`import_transition` is the only code that changes `ImportBatch.state`; each move appends an `ImportEvent`.
The commit writes each chunk of rows in one transaction with a constant number of queries: customers
created and updated in bulk, their `ImportedRecord`s and one bulk insert of their audit entries (auditlog's
signals do not fire on bulk writes, so the entries are written here, with the actor and the register).
"""

import csv
import dataclasses
import datetime
import hashlib
import io
import itertools
import logging
import tempfile
import uuid
from array import array
from collections.abc import Iterator

from auditlog.cid import get_cid
from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer, Interaction, Invoice
from crm.selectors import user_may_import
from privacy.rights.erasure import customer_holds
from privacy.rights.models import ConsentRecord, ObjectionRecord
from registers.audit_chain import chained_bulk_create
from registers.audit_scope import REGISTER_KEY
from registers.models import Register
from registers.spreadsheet import spreadsheet_row
from registers.state_machine import StateMachine

from .linked import LINKED_FIELDS, LinkedPlanner
from .mapping import KIND_CONTACT_PERSONS, KIND_CUSTOMERS, mapping_errors
from .models import ImportBatch, ImportedRecord, ImportEvent
from .plan import IMPORTABLE_FIELDS, ChunkPlanner, Outcome, RowError, restore_value
from .reading import FileRefused, Table, read_table

logger = logging.getLogger("imports")

State = ImportBatch.State
TRANSITIONS: dict[str, frozenset[str]] = {
    # A batch waits in PREVIEWED for its mapping, and again once its preview is kept (`previewed_at`).
    State.PREVIEWED: frozenset({State.PREVIEWING, State.QUEUED, State.CANCELLED}),
    # Back to PREVIEWED with the result, or with the reason it has none; a changed mapping starts over.
    State.PREVIEWING: frozenset({State.PREVIEWED, State.PREVIEWING, State.CANCELLED}),
    State.QUEUED: frozenset({State.RUNNING, State.FAILED}),
    State.RUNNING: frozenset({State.DONE, State.FAILED}),
    # A failed run may have applied some chunks; undo takes those back.
    State.DONE: frozenset({State.UNDONE}),
    State.FAILED: frozenset({State.UNDONE}),
    State.UNDONE: frozenset(),
    State.CANCELLED: frozenset(),
}
MACHINE = StateMachine(
    name="import batch",
    states=State,
    transitions=TRANSITIONS,
    illegal_message=_("An import cannot move from “%(old)s” to “%(new)s”."),
)
# The stored file is needed until the rows are in; then it is one more copy of personal data.
FILE_KEPT_STATES = frozenset({State.PREVIEWED, State.PREVIEWING, State.QUEUED, State.RUNNING})

PREVIEW_CHUNK = 2000
COMMIT_CHUNK = 1000
UNDO_CHUNK = 1000
MAX_ERRORS = 200
# New rows shown with the existing customers they look like; the rest are counted (the nightly scan lists them).
MAX_LIKELY = 100
UNDO_DAYS = 30

ERROR_NO_IMPORT_RIGHT = _("Only the register's owner or handler may import customers into it.")
ERROR_NOT_CUSTOMER_REGISTER = _("Customers can be imported only into a customer register.")
ERROR_FIELD_NOT_IMPORTABLE = _("Customers cannot be imported with the field “%(field)s”.")
ERROR_NO_COLUMNS = _("Map at least one column to a customer field.")
ERROR_MATCH_MODE = _("Choose what to do with existing customers.")
ERROR_OTHER_REGISTER = _("This import belongs to another register.")
ERROR_UNDO_TOO_LATE = _("An import can be undone within %(days)s days; this one finished on %(date)s.")
ERROR_COLUMN_ERROR = _("error")
ERROR_NOT_PREVIEWED = _("Wait for the preview of the import to finish before starting it.")


@dataclasses.dataclass
class ImportPreview:
    """What committing the file would do: counts, the first errors, and the rows that would be rejected."""

    register: Register
    mapping: dict[int, str]
    match_mode: str
    headers: list[str]
    file_name: str = ""
    checksum: str = ""
    rows: int = 0
    new: int = 0
    update: int = 0
    unchanged: int = 0
    duplicate: int = 0
    invalid: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    # Row numbers only, 4 bytes each: 100,000 rejected rows take 400 kB.
    rejected: array = dataclasses.field(default_factory=lambda: array("L"))
    # [row, existing customer's code, reasons] of the first new rows that look like an existing customer.
    likely: list = dataclasses.field(default_factory=list)
    likely_rows: int = 0

    @property
    def error_count(self) -> int:
        return self.invalid + self.duplicate


@dataclasses.dataclass
class KeptCustomer:
    code: str
    name: str
    row_number: int
    reasons: list[str]


@dataclasses.dataclass
class ImportUndoResult:
    deleted: int = 0
    restored: int = 0
    kept_count: int = 0
    # The first kept customers, for the page; `selectors.import_kept_list` lists them all.
    kept: list[KeptCustomer] = dataclasses.field(default_factory=list)


def _chunks(rows, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _require_import_right(actor, register: Register) -> None:
    if not user_may_import(user=actor, register=register):
        raise PermissionDenied(ERROR_NO_IMPORT_RIGHT)


def _check_mapping(*, register: Register, kind: str, mapping: dict[int, str], match_mode: str) -> None:
    errors = [
        ValidationError(message, code="mapping") for message in mapping_errors(mapping, register=register, kind=kind)
    ]
    # The reader's interface and the planner's field list must agree: a field the planner cannot convert
    # is refused here even if the mapping module offers it.
    importable = IMPORTABLE_FIELDS if kind == KIND_CUSTOMERS else LINKED_FIELDS.get(kind, ())
    errors += [
        ValidationError(ERROR_FIELD_NOT_IMPORTABLE, code="not_importable", params={"field": str(name)[:100]})
        for name in sorted(set(mapping.values()) - set(importable))
    ]
    if not mapping:
        errors.append(ValidationError(ERROR_NO_COLUMNS, code="no_columns"))
    if match_mode not in ImportBatch.MatchMode.values:
        errors.append(ValidationError(ERROR_MATCH_MODE, code="match_mode"))
    if errors:
        raise ValidationError(errors)


def _check_register(register: Register) -> None:
    if register.kind != Register.Kind.CUSTOMER:
        raise ValidationError(ERROR_NOT_CUSTOMER_REGISTER, code="not_customer_register")


# The state machine.


def _event_add(*, batch: ImportBatch, actor, old: str, new: str, note: str = "", payload: dict | None = None):
    return ImportEvent.objects.create(
        batch=batch, at=timezone.now(), actor=actor, old=old, new=new, note=note, payload=payload or {}
    )


def _file_delete(batch: ImportBatch, field: str = "file") -> None:
    file = getattr(batch, field)
    name = file.name
    if not name:
        return
    storage = file.storage
    setattr(batch, field, "")
    # After commit: a rolled-back move must still find its file.
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def import_transition(
    *, batch: ImportBatch, to: str, actor=None, note: str = "", payload: dict | None = None
) -> ImportBatch:
    """Move a batch to state `to`, or raise ValidationError if the table does not allow the move."""
    current = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    old = current.state
    MACHINE.check(old, to)
    now = timezone.now()
    fields = ["state", "updated_at"]
    if to == State.RUNNING:
        current.started_at = now
        fields.append("started_at")
    if to in {State.DONE, State.FAILED}:
        current.finished_at = now
        fields.append("finished_at")
    if to == State.UNDONE:
        current.undone_at, current.undone_by = now, actor
        fields += ["undone_at", "undone_by"]
    if to not in FILE_KEPT_STATES:
        # The rejected rows and the first errors quote the file's cells: they go with it.
        _file_delete(current, "file")
        _file_delete(current, "rejected_file")
        current.preview_errors = []
        fields += ["file", "rejected_file", "preview_errors"]
    current.state = to
    current.save(update_fields=fields)
    _event_add(batch=current, actor=actor, old=old, new=to, note=note, payload=payload)
    _copy_fields(current, batch)
    return batch


# Upload and preview.


@transaction.atomic
def import_batch_create(
    *, actor, register: Register, file, file_name: str, kind: str = ImportBatch.Kind.CUSTOMERS
) -> ImportBatch:
    """Store an uploaded file as a new batch of the register, to be mapped and previewed."""
    _require_import_right(actor, register)
    _check_register(register)
    content = file.read()
    batch = ImportBatch(
        register=register,
        kind=kind,
        created_by=actor,
        file_name=file_name[:255],
        checksum=hashlib.sha256(content).hexdigest(),
        match_mode=ImportBatch.MatchMode.SKIP,
    )
    batch.full_clean(exclude=["file"])
    batch.file.save(file_name, ContentFile(content), save=False)
    batch.save()
    _event_add(batch=batch, actor=actor, old="", new=State.PREVIEWED)
    return batch


def _planner(*, kind: str, register: Register, mapping: dict[int, str], headers: list[str], match_mode: str, actor):
    """Return the planner of the batch's kind: what the preview counts is what the commit does."""
    if kind == KIND_CUSTOMERS:
        return ChunkPlanner(register=register, mapping=mapping, headers=headers, match_mode=match_mode)
    return LinkedPlanner(kind=kind, register=register, mapping=mapping, headers=headers, actor=actor)


def _preview_rows(*, planner, table, preview: ImportPreview, out=None, on_chunk=None) -> ImportPreview:
    """Run the rows through the planner, counting; write the rejected rows with their errors to `out` (text)."""
    writer = None
    if out is not None:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(spreadsheet_row(*table.headers, str(ERROR_COLUMN_ERROR)))
    counters = {"created": "new", "updated": "update", "skipped": "unchanged", "duplicate": "duplicate"}
    for chunk in _chunks(table.rows, PREVIEW_CHUNK):
        outcomes = planner.plan(chunk)
        if hasattr(planner, "likely_duplicates"):
            # Likely duplicates of existing customers: a warning, the rows are imported as planned.
            likely = planner.likely_duplicates(outcomes)
            preview.likely_rows += len(likely)
            for row_number, hits in sorted(likely.items())[: max(0, MAX_LIKELY - len(preview.likely))]:
                preview.likely.extend([row_number, code, reasons] for code, reasons in hits)
        for row, outcome in zip(chunk, outcomes, strict=True):
            preview.rows += 1
            if outcome.action == "invalid":
                preview.invalid += 1
            else:
                name = counters[outcome.action]
                setattr(preview, name, getattr(preview, name) + 1)
            if outcome.errors and len(preview.errors) < MAX_ERRORS:
                preview.errors.extend(outcome.errors[: MAX_ERRORS - len(preview.errors)])
            if outcome.rejected:
                preview.rejected.append(outcome.row)
                if writer is not None:
                    # Opened in a spreadsheet program to be fixed: a cell that starts like a formula stays text.
                    writer.writerow(spreadsheet_row(*row.cells, " | ".join(error.text for error in outcome.errors)))
        if on_chunk is not None:
            on_chunk(preview.rows)
    return preview


def import_preview(
    *,
    actor,
    register: Register,
    table,
    mapping: dict[int, str],
    match_mode: str,
    kind: str = ImportBatch.Kind.CUSTOMERS,
    out=None,
) -> ImportPreview:
    """Run every row of the file through the checks of the commit without writing anything (a dry run).

    Streams the rows: keeps the counts, the first MAX_ERRORS errors and the rejected row numbers, and writes the
    rejected rows with an error column to `out` if given. Batches are previewed by `import_preview_start`.
    """
    _require_import_right(actor, register)
    _check_register(register)
    headers = list(table.headers)
    mapping = {int(index): name for index, name in mapping.items()}
    _check_mapping(register=register, kind=kind, mapping=mapping, match_mode=match_mode)
    preview = ImportPreview(
        register=register,
        mapping=mapping,
        match_mode=match_mode,
        headers=headers,
        file_name=getattr(table, "file_name", ""),
        checksum=getattr(table, "checksum", ""),
    )
    planner = _planner(
        kind=kind, register=register, mapping=mapping, headers=headers, match_mode=match_mode, actor=actor
    )
    return _preview_rows(planner=planner, table=table, preview=preview, out=out)


_RESULT_FIELDS = ("created", "updated", "skipped", "duplicate", "invalid", "rejected", "progress")


@transaction.atomic
def import_preview_start(*, actor, batch: ImportBatch, mapping: dict[int, str], match_mode: str) -> ImportBatch:
    """Keep the chosen mapping and match mode and preview the file with them in the background, once.

    Any earlier preview of the batch is dropped, a running one included: its task finds the token changed
    and stores nothing. The task is queued when this transaction commits.
    """
    register = batch.register
    _require_import_right(actor, register)
    _check_register(register)
    mapping = {int(index): name for index, name in mapping.items()}
    _check_mapping(register=register, kind=batch.kind, mapping=mapping, match_mode=match_mode)
    current = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    MACHINE.check(current.state, State.PREVIEWING)
    current.mapping = {str(index): name for index, name in sorted(mapping.items())}
    current.match_mode = match_mode
    current.preview_token = uuid.uuid4()
    current.previewed_at = None
    current.preview_errors = []
    for name in _RESULT_FIELDS:
        setattr(current, name, 0)
    _file_delete(current, "rejected_file")
    fields = ["mapping", "match_mode", "preview_token", "previewed_at", "preview_errors", "rejected_file"]
    current.save(update_fields=[*fields, *_RESULT_FIELDS, "updated_at"])
    import_transition(batch=current, to=State.PREVIEWING, actor=actor)
    _copy_fields(current, batch)
    pk, token, language = batch.pk, str(current.preview_token), translation.get_language()

    def enqueue():
        from .tasks import import_preview as preview_task  # the task module imports this one

        preview_task.delay(pk, token, language)

    transaction.on_commit(enqueue)
    return batch


class _Superseded(Exception):  # noqa: N818 - a signal between two functions, not an error
    """The preview being run is no longer the batch's current one."""


def import_preview_run(*, batch_id: int, token: str, language: str | None = None) -> ImportBatch | None:
    """Preview the batch for the run `token` names and keep the result on it; safe to run twice.

    The errors and the rejected rows' file are worded in `language`, the language of whoever asked for the
    preview. A run that a newer one replaced stops at its next chunk and stores nothing.
    """
    batch = ImportBatch.objects.select_related("register", "created_by").filter(pk=batch_id).first()
    token = uuid.UUID(str(token))
    if batch is None or batch.state != State.PREVIEWING or batch.preview_token != token:
        return batch  # cancelled, replaced by a newer preview, or already stored (a second delivery)
    with translation.override(language or settings.LANGUAGE_CODE):
        return _preview_run(batch, token)


def _preview_run(batch: ImportBatch, token: uuid.UUID) -> ImportBatch:
    try:
        _require_import_right(batch.created_by, batch.register)
    except PermissionDenied:
        return _preview_end(batch, token, ImportEvent.Note.ERROR)
    if not batch.file:
        return _preview_end(batch, token, ImportEvent.Note.FILE_MISSING)
    try:
        table = open_table(batch)
    except (FileRefused, OSError, ValueError):
        return _preview_end(batch, token, ImportEvent.Note.FILE_MISSING)
    if table.checksum and table.checksum != batch.checksum:
        return _preview_end(batch, token, ImportEvent.Note.FILE_CHANGED)
    headers = list(table.headers)
    mapping = batch.column_fields
    preview = ImportPreview(
        register=batch.register, mapping=mapping, match_mode=batch.match_mode, headers=headers,
        file_name=batch.file_name, checksum=batch.checksum,
    )  # fmt: skip
    planner = _planner(
        kind=batch.kind, register=batch.register, mapping=mapping, headers=headers, match_mode=batch.match_mode,
        actor=batch.created_by,
    )  # fmt: skip

    def on_chunk(rows: int) -> None:
        # Outside a transaction: each chunk's count is visible to the polling page at once.
        current = ImportBatch.objects.filter(pk=batch.pk, state=State.PREVIEWING, preview_token=token)
        if not current.update(progress=rows):
            raise _Superseded

    with tempfile.TemporaryFile() as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        out.write("\ufeff")  # a BOM: Excel then reads the file as UTF-8
        try:
            _preview_rows(planner=planner, table=table, preview=preview, out=out, on_chunk=on_chunk)
        except _Superseded:
            logger.info("Import batch %s: a newer preview has replaced this one.", batch.pk)
            return ImportBatch.objects.get(pk=batch.pk)
        except Exception:
            logger.exception("The preview of import batch %s stopped on an error.", batch.pk)
            return _preview_end(batch, token, ImportEvent.Note.ERROR)
        out.flush()
        raw.seek(0)
        return _preview_store(batch=batch, token=token, preview=preview, rejected_csv=raw if preview.rejected else None)


@transaction.atomic
def _preview_store(*, batch: ImportBatch, token: uuid.UUID, preview: ImportPreview, rejected_csv) -> ImportBatch:
    current = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if current.state != State.PREVIEWING or current.preview_token != token:
        return current
    if rejected_csv is not None:
        current.rejected_file.save("rejected.csv", File(rejected_csv), save=False)
    current.rows = preview.rows
    current.created, current.updated, current.skipped = preview.new, preview.update, preview.unchanged
    current.duplicate, current.invalid, current.rejected = preview.duplicate, preview.invalid, len(preview.rejected)
    current.preview_errors = [[error.row, error.column, error.message] for error in preview.errors]
    current.previewed_at = timezone.now()
    current.progress = 0  # the commit counts its own rows from the start
    fields = ["rows", *_RESULT_FIELDS, "preview_errors", "previewed_at", "rejected_file", "updated_at"]
    current.save(update_fields=fields)
    counts = {"rows": preview.rows, "rejected": current.rejected}
    if preview.likely_rows:
        # Customer codes and reason codes, no names: a name is read when the page is shown, if the customer is there.
        counts.update(likely_rows=preview.likely_rows, likely_duplicates=preview.likely)
    import_transition(batch=current, to=State.PREVIEWED, payload=counts)
    _copy_fields(current, batch)
    return batch


@transaction.atomic
def _preview_end(batch: ImportBatch, token: uuid.UUID, note: str) -> ImportBatch:
    """Leave a preview that could not be finished: the batch waits for its mapping again, with the reason."""
    current = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if current.state != State.PREVIEWING or current.preview_token != token:
        return current
    ImportBatch.objects.filter(pk=batch.pk).update(progress=0)
    import_transition(batch=current, to=State.PREVIEWED, note=note)
    _copy_fields(current, batch)
    return batch


def preview_errors(batch: ImportBatch) -> list[RowError]:
    """Return the stored first errors of the batch's preview."""
    return [RowError(row, column, message) for row, column, message in batch.preview_errors]


def _copy_fields(source: ImportBatch, target: ImportBatch) -> None:
    if source is not target:
        for field in source._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def import_start(*, actor, batch: ImportBatch) -> ImportBatch:
    """Queue the commit of a previewed batch; the task starts once this transaction commits."""
    _require_import_right(actor, batch.register)
    current = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if current.state == State.PREVIEWED and current.previewed_at is None:
        raise ValidationError(ERROR_NOT_PREVIEWED, code="not_previewed")
    import_transition(batch=batch, to=State.QUEUED, actor=actor)
    pk = batch.pk

    def enqueue():
        # Imported here: the task module imports this one.
        from .tasks import import_commit

        import_commit.delay(pk)

    transaction.on_commit(enqueue)
    return batch


@transaction.atomic
def import_cancel(*, actor, batch: ImportBatch) -> ImportBatch:
    """Drop a batch that was uploaded and previewed but not started; its file is deleted."""
    _require_import_right(actor, batch.register)
    return import_transition(batch=batch, to=State.CANCELLED, actor=actor)


# Commit (run by imports.tasks.import_commit).


def open_table(batch: ImportBatch) -> Table:
    """Read the batch's stored file again, with the reader of the upload."""
    # The reader copies the file to a scratch file of this process before it returns, so the storage's copy (from
    # S3, a download held in memory) is closed at once rather than when the batch is garbage-collected.
    with batch.file.open("rb") as stored:
        return read_table(stored, file_name=batch.file_name)


def _log_entries(*, outcomes: list[Outcome], actor, register: Register, batch: ImportBatch) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(Customer)
    use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    now, cid = timezone.now(), get_cid()
    extra = {REGISTER_KEY: register.pk, "import_batch": str(batch.code)}
    entries = []
    for outcome in outcomes:
        customer = outcome.customer
        created = outcome.action == "created"
        changes = model_instance_diff(None if created else outcome.before, customer, use_json_for_changes=use_json)
        entries.append(
            LogEntry(
                content_type=content_type,
                object_pk=str(customer.pk),
                object_id=customer.pk,
                object_repr=str(customer),
                action=LogEntry.Action.CREATE if created else LogEntry.Action.UPDATE,
                changes=changes,
                changes_text="",
                actor=actor,
                actor_email=getattr(actor, "email", None),
                timestamp=now,
                cid=cid,
                additional_data=extra,
            )
        )
    return entries


def _commit_chunk(*, batch_pk: int, position: int, chunk: list, planner, actor) -> bool:
    """Apply one chunk of rows in one transaction; return False if another run has already applied it."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("register").get(pk=batch_pk)
        if batch.state != State.RUNNING or batch.progress != position:
            return False
        outcomes = planner.plan(chunk, lock=True)
        now = timezone.now()
        created = [o for o in outcomes if o.action == "created"]
        updated = [o for o in outcomes if o.action == "updated"]
        if isinstance(planner, LinkedPlanner):
            _write_linked(created=created, batch=batch, actor=actor, now=now)
        else:
            _write_customers(created=created, updated=updated, batch=batch, actor=actor, now=now)
        batch.progress = position + len(chunk)
        batch.created += len(created)
        batch.updated += len(updated)
        batch.skipped += sum(1 for o in outcomes if o.action == "skipped")
        batch.duplicate += sum(1 for o in outcomes if o.action == "duplicate")
        batch.invalid += sum(1 for o in outcomes if o.action == "invalid")
        batch.save(update_fields=["progress", "created", "updated", "skipped", "duplicate", "invalid", "updated_at"])
    return True


def _write_customers(*, created: list[Outcome], updated: list[Outcome], batch: ImportBatch, actor, now) -> None:
    for outcome in created:
        outcome.customer.last_activity_at = now
    Customer.objects.bulk_create([o.customer for o in created])
    if updated:
        fields = sorted({name for o in updated for name in o.old_values} | {"version", "updated_at"})
        for outcome in updated:
            outcome.customer.version = outcome.before.version + 1
            outcome.customer.updated_at = now
        Customer.objects.bulk_update([o.customer for o in updated], fields)
    ImportedRecord.objects.bulk_create(
        [
            ImportedRecord(
                batch=batch,
                customer=o.customer,
                action=ImportedRecord.Action.CREATED if o.action == "created" else ImportedRecord.Action.UPDATED,
                row_number=o.row,
                version=o.customer.version,
                old_values=o.old_values,
            )
            for o in created + updated
        ]
    )
    chained_bulk_create(
        LogEntry, _log_entries(outcomes=created + updated, actor=actor, register=batch.register, batch=batch)
    )
    _objections_record(created=created, updated=updated, batch=batch, actor=actor, now=now)


def _objections_record(*, created: list[Outcome], updated: list[Outcome], batch: ImportBatch, actor, now) -> None:
    """Record each objection to direct marketing the file brought in as evidence (channel: import, by the importer,
    the batch and row), as every other path that marks an objection does (GDPR 21, 7(1))."""
    objecting = [o for o in created if o.customer.marketing_objection]
    objecting += [o for o in updated if "marketing_objection" in o.old_values and o.customer.marketing_objection]
    # Not audited rows (the objection's own record is the evidence): one insert for the chunk.
    ObjectionRecord.objects.bulk_create(
        [
            ObjectionRecord(
                customer=o.customer,
                register=batch.register,
                purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
                given_at=now,
                channel=ConsentRecord.Channel.IMPORT,
                recorded_by=actor,
                evidence={"import_batch": str(batch.code), "row": o.row},
            )
            for o in objecting
        ]
    )


def _write_linked(*, created: list[Outcome], batch: ImportBatch, actor, now) -> None:
    """Add the chunk's contact persons or interactions, their records and audit entries, in a few queries."""
    if not created:
        return
    records = [o.record for o in created]
    model = type(records[0])
    model.objects.bulk_create(records)
    link = "contact_person" if model is ContactPerson else "interaction"
    ImportedRecord.objects.bulk_create(
        [
            ImportedRecord(
                batch=batch,
                action=ImportedRecord.Action.CREATED,
                row_number=o.row,
                version=getattr(o.record, "version", 1),
                **{link: o.record},
            )
            for o in created
        ]
    )
    content_type = ContentType.objects.get_for_model(model)
    extra = {REGISTER_KEY: batch.register_id, "import_batch": str(batch.code)}
    use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    chained_bulk_create(
        LogEntry,
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(record.pk),
                object_id=record.pk,
                object_repr=str(record),
                action=LogEntry.Action.CREATE,
                changes=model_instance_diff(None, record, use_json_for_changes=use_json),
                changes_text="",
                actor=actor,
                actor_email=getattr(actor, "email", None),
                timestamp=now,
                cid=get_cid(),
                additional_data=extra,
            )
            for record in records
        ],
    )
    # A plain UPDATE, as the staff services do: moving the activity time is not a change of personal data.
    Customer.objects.filter(pk__in={record.customer_id for record in records}).update(last_activity_at=now)


def _fail(batch: ImportBatch, note: str) -> ImportBatch:
    batch.refresh_from_db()
    applied = batch.created + batch.updated
    return import_transition(
        batch=batch, to=State.FAILED, note=note, payload={"rows_done": batch.progress, "applied": applied}
    )


def import_commit_run(*, batch_id: int) -> ImportBatch | None:
    """Commit a queued batch chunk by chunk, or resume a run a killed worker left; safe to run twice."""
    batch = ImportBatch.objects.select_related("register", "created_by").filter(pk=batch_id).first()
    if batch is None or batch.state not in {State.QUEUED, State.RUNNING}:
        return batch  # already finished (a second delivery of the task), undone or cancelled
    actor, register = batch.created_by, batch.register
    try:
        _require_import_right(actor, register)
    except PermissionDenied:
        return _fail(batch, ImportEvent.Note.ERROR)
    if batch.state == State.QUEUED:
        import_transition(batch=batch, to=State.RUNNING)
        # Counted again as applied: the preview's figures were a forecast.
        ImportBatch.objects.filter(pk=batch.pk).update(
            created=0, updated=0, skipped=0, duplicate=0, invalid=0, progress=0
        )
        batch.progress = 0
    else:
        _event_add(
            batch=batch, actor=None, old=State.RUNNING, new=State.RUNNING, note=ImportEvent.Note.RESUMED,
            payload={"rows_done": batch.progress},
        )  # fmt: skip
    if not batch.file:
        return _fail(batch, ImportEvent.Note.FILE_MISSING)
    table = open_table(batch)
    if table.checksum and table.checksum != batch.checksum:
        return _fail(batch, ImportEvent.Note.FILE_CHANGED)
    planner = _planner(
        kind=batch.kind, register=register, mapping=batch.column_fields, headers=list(table.headers),
        match_mode=batch.match_mode, actor=actor,
    )  # fmt: skip
    position = 0
    try:
        for chunk in _chunks(table.rows, COMMIT_CHUNK):
            if position + len(chunk) <= batch.progress:
                # Committed by an earlier run: read again only to know the file's keys (duplicates within it).
                planner.plan(chunk)
            elif not _commit_chunk(batch_pk=batch.pk, position=position, chunk=chunk, planner=planner, actor=actor):
                logger.info("Import batch %s: another run has taken over.", batch.pk)
                return ImportBatch.objects.get(pk=batch.pk)
            position += len(chunk)
    except Exception:
        logger.exception("Import batch %s stopped on an error.", batch.pk)
        return _fail(batch, ImportEvent.Note.ERROR)
    batch.refresh_from_db()
    ImportBatch.objects.filter(pk=batch.pk).update(rows=position)
    return import_transition(batch=batch, to=State.DONE, payload={"rows": position})


# Undo.


def _kept_reasons(records: list[ImportedRecord], register: Register) -> dict[int, list[str]]:
    customers = Customer.objects.filter(pk__in=[r.customer_id for r in records])
    holds = customer_holds(customers=customers, today=timezone.localdate())
    reasons: dict[int, list[str]] = {}
    for record in records:
        found = []
        if record.customer.version != record.version or (
            record.action == ImportedRecord.Action.CREATED and record.has_dependants
        ):
            found.append(ImportedRecord.Kept.CHANGED)
        found.extend(
            kept
            for hold, kept in (
                ("open_request", ImportedRecord.Kept.OPEN_REQUEST),
                ("open_invoice", ImportedRecord.Kept.OPEN_INVOICE),
                ("legal_hold", ImportedRecord.Kept.LEGAL_HOLD),
            )
            if hold in holds.get(record.customer_id, set())
        )
        if found:
            reasons[record.pk] = found
    return reasons


def _undo_chunk(*, records: list[ImportedRecord], batch: ImportBatch, actor, result: ImportUndoResult) -> None:
    reasons = _kept_reasons(records, batch.register)
    kept = [r for r in records if r.pk in reasons]
    for record in kept:
        record.kept = reasons[record.pk][0]
        result.kept_count += 1
        if len(result.kept) < MAX_ERRORS:
            result.kept.append(
                KeptCustomer(
                    code=str(record.customer.code),
                    name=str(record.customer),
                    row_number=record.row_number,
                    reasons=[str(ImportedRecord.Kept(reason).label) for reason in reasons[record.pk]],
                )
            )
    ImportedRecord.objects.bulk_update(kept, ["kept"])
    content_type = ContentType.objects.get_for_model(Customer)
    now, cid = timezone.now(), get_cid()
    extra = {REGISTER_KEY: batch.register_id, "import_batch": str(batch.code), "undo": True}
    common = {
        "content_type": content_type,
        "changes_text": "",
        "actor": actor,
        "actor_email": getattr(actor, "email", None),
        "timestamp": now,
        "cid": cid,
        "additional_data": extra,
    }
    entries = []
    doomed = [r.customer for r in records if r.pk not in reasons and r.action == ImportedRecord.Action.CREATED]
    if doomed:
        for customer in doomed:
            entries.append(
                LogEntry(
                    object_pk=str(customer.pk),
                    object_id=customer.pk,
                    object_repr=str(customer),
                    action=LogEntry.Action.DELETE,
                    changes=model_instance_diff(customer, None),
                    **common,
                )
            )
        # The delete entries are written above in one insert; auditlog's per-row signal would add one query each.
        with disable_auditlog():
            Customer.objects.filter(pk__in=[c.pk for c in doomed]).delete()
        result.deleted += len(doomed)
    restored = [r for r in records if r.pk not in reasons and r.action == ImportedRecord.Action.UPDATED]
    if restored:
        fields = {"version", "updated_at"}
        for record in restored:
            customer = record.customer
            before = Customer(**{f.attname: getattr(customer, f.attname) for f in Customer._meta.concrete_fields})
            for name, value in record.old_values.items():
                setattr(customer, name, restore_value(name, value))
                fields.add(name)
            customer.version += 1
            customer.updated_at = now
            entries.append(
                LogEntry(
                    object_pk=str(customer.pk),
                    object_id=customer.pk,
                    object_repr=str(customer),
                    action=LogEntry.Action.UPDATE,
                    changes=model_instance_diff(before, customer),
                    **common,
                )
            )
        Customer.objects.bulk_update([r.customer for r in restored], sorted(fields))
        result.restored += len(restored)
        # An objection the import set and its undo lifts is withdrawn on its record, by the same channel.
        lifted = [r.customer_id for r in restored if "marketing_objection" in r.old_values]
        if lifted:
            ObjectionRecord.objects.filter(
                customer_id__in=lifted,
                channel=ConsentRecord.Channel.IMPORT,
                evidence__import_batch=str(batch.code),
                withdrawn_at__isnull=True,
            ).update(
                withdrawn_at=now, withdrawn_channel=ConsentRecord.Channel.IMPORT, withdrawn_by=actor, updated_at=now
            )
    chained_bulk_create(LogEntry, entries)


def _undo_linked(*, batch: ImportBatch, actor, result: ImportUndoResult) -> None:
    """Delete the contact persons or interactions the batch added, except those changed or held since."""
    link = "contact_person" if batch.kind == KIND_CONTACT_PERSONS else "interaction"
    model = ContactPerson if link == "contact_person" else Interaction
    records = ImportedRecord.objects.filter(batch=batch, kept="", **{f"{link}__isnull": False})
    records = records.select_related(f"{link}__customer__register").order_by("pk")
    if model is ContactPerson:
        # A contact person an interaction has since been linked to is part of the customer's history now.
        records = records.annotate(has_dependants=Exists(Interaction.objects.filter(contact_person=OuterRef(link))))
    content_type = ContentType.objects.get_for_model(model)
    extra = {REGISTER_KEY: batch.register_id, "import_batch": str(batch.code), "undo": True}
    finished = batch.finished_at or timezone.now()
    last = 0
    while chunk := list(records.filter(pk__gt=last)[:UNDO_CHUNK]):
        last = chunk[-1].pk
        targets = {record.pk: getattr(record, link) for record in chunk}
        customers = Customer.objects.filter(pk__in={target.customer_id for target in targets.values()})
        holds = customer_holds(customers=customers, today=timezone.localdate())
        kept, doomed = [], []
        for record in chunk:
            target = targets[record.pk]
            reasons = []
            if (
                getattr(target, "version", 1) != record.version
                or getattr(record, "has_dependants", False)
                or (model is Interaction and target.updated_at > finished)
            ):
                reasons.append(ImportedRecord.Kept.CHANGED)
            held = holds.get(target.customer_id, set())
            reasons += [kept for hold, kept in _LINKED_HOLDS if hold in held]
            if reasons:
                record.kept = reasons[0]
                kept.append(record)
                result.kept_count += 1
                if len(result.kept) < MAX_ERRORS:
                    labels = [str(ImportedRecord.Kept(reason).label) for reason in reasons]
                    result.kept.append(KeptCustomer(str(target.customer.code), str(target), record.row_number, labels))
            else:
                doomed.append(target)
        ImportedRecord.objects.bulk_update(kept, ["kept"])
        if doomed:
            now = timezone.now()
            chained_bulk_create(LogEntry,
                [
                    LogEntry(
                        content_type=content_type, object_pk=str(target.pk), object_id=target.pk,
                        object_repr=str(target), action=LogEntry.Action.DELETE,
                        changes=model_instance_diff(target, None), changes_text="", actor=actor,
                        actor_email=getattr(actor, "email", None), timestamp=now, cid=get_cid(),
                        additional_data=extra,
                    )
                    for target in doomed
                ]
            )  # fmt: skip
            # The delete entries are written above in one insert; auditlog's per-row signal would add one each.
            with disable_auditlog():
                model.objects.filter(pk__in=[target.pk for target in doomed]).delete()
            result.deleted += len(doomed)


# Holds that keep an added contact person or interaction: its customer's open data-subject request (or one about
# one of its contact persons) and a legal hold. An open invoice concerns the customer, not these rows.
_LINKED_HOLDS = (("open_request", ImportedRecord.Kept.OPEN_REQUEST), ("legal_hold", ImportedRecord.Kept.LEGAL_HOLD))


@transaction.atomic
def import_undo(*, actor, batch: ImportBatch) -> ImportUndoResult:
    """Take a batch back within UNDO_DAYS days: delete the customers it created, restore those it updated.

    A customer changed since the import, in an open data-subject request, with an open invoice or under a
    legal hold is kept as it is and listed. All or nothing: one transaction.
    """
    _require_import_right(actor, batch.register)
    current = ImportBatch.objects.select_for_update().select_related("register").get(pk=batch.pk)
    MACHINE.check(current.state, State.UNDONE)
    finished = current.finished_at or current.created_at
    if timezone.now() - finished > datetime.timedelta(days=UNDO_DAYS):
        raise ValidationError(
            ERROR_UNDO_TOO_LATE,
            code="undo_too_late",
            params={"days": UNDO_DAYS, "date": timezone.localdate(finished).strftime("%d.%m.%Y")},
        )
    result = ImportUndoResult()
    if current.kind != KIND_CUSTOMERS:
        _undo_linked(batch=current, actor=actor, result=result)
        import_transition(
            batch=batch, to=State.UNDONE, actor=actor,
            payload={"deleted": result.deleted, "restored": 0, "kept": result.kept_count},
        )  # fmt: skip
        return result
    dependants = (
        Exists(ContactPerson.objects.filter(customer=OuterRef("customer_id")))
        | Exists(Interaction.objects.filter(customer=OuterRef("customer_id")))
        | Exists(Invoice.objects.filter(customer=OuterRef("customer_id")))
    )
    records = (
        ImportedRecord.objects.filter(batch=current, customer__isnull=False, kept="")
        .select_related("customer")
        .annotate(has_dependants=dependants)
        .order_by("pk")
    )
    last = 0
    while chunk := list(records.filter(pk__gt=last)[:UNDO_CHUNK]):
        last = chunk[-1].pk
        _undo_chunk(records=chunk, batch=current, actor=actor, result=result)
    import_transition(
        batch=batch,
        to=State.UNDONE,
        actor=actor,
        payload={"deleted": result.deleted, "restored": result.restored, "kept": result.kept_count},
    )
    return result
