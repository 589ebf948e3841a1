"""The import screens of a register: upload, column mapping, preview, progress, history and undo (issue 15).

Every view resolves the register through `_register` (404 for a register the user cannot see, 403 for a role
without the import right) and the batch through `selectors.import_batch_get_for_user`. State changes are POST
and go through `imports.services`; a batch in the wrong state for an action gets a message, never an error page.
"""

import datetime
import itertools

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.display import page_number
from crm.selectors import register_get_with_access
from registers.access_log import log_access
from registers.models import Register

from . import selectors, services
from .forms import MappingForm, UploadForm, mapping_initial
from .mapping import mapping_errors, suggest_mapping
from .models import ImportBatch, ImportEvent
from .reading import FileRefused

State = ImportBatch.State
PAGE_SIZE = 30
SAMPLE_ROWS = 3
ERRORS_SHOWN = 50
RUNNING_STATES = frozenset({State.QUEUED, State.RUNNING})
# The states that still wait for the mapping, a preview, or the start.
WAITING_STATES = frozenset({State.PREVIEWED, State.PREVIEWING})

ERROR_NOT_WAITING = _("This import has already been started or dropped: its mapping can no longer be changed.")
ERROR_FILE_GONE = _("The uploaded file can no longer be read. Upload it again.")
ERROR_UNDO_CLOSED = _("This import cannot be undone.")
ERROR_PREVIEW_STOPPED = _("The preview could not be finished: %(reason)s. Choose the columns again.")
MESSAGE_STARTED = _("The import has started.")
MESSAGE_CANCELLED = _("The import was cancelled and its file deleted.")
MESSAGE_UNDONE = _("The import was undone: %(deleted)s customers deleted, %(restored)s restored, %(kept)s kept.")
MESSAGE_UNDONE_ROWS = _("The import was undone: %(deleted)s rows deleted, %(kept)s kept.")


def _register(request, slug: str) -> Register:
    register = register_get_with_access(user=request.user, slug=slug, kind=Register.Kind.CUSTOMER)
    if not selectors.user_may_import(user=request.user, register=register):
        raise PermissionDenied(services.ERROR_NO_IMPORT_RIGHT)
    return register


def _batch(request, slug: str, code) -> tuple[Register, ImportBatch]:
    register = _register(request, slug)
    return register, selectors.import_batch_get_for_user(user=request.user, register=register, code=code)


def _detail(batch: ImportBatch):
    return redirect("imports:batch-detail", register=batch.register.slug, code=batch.code)


def _error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _table(batch: ImportBatch):
    """Read the batch's stored file again, or return None if it is gone or no longer readable."""
    try:
        return services.open_table(batch)
    except (FileRefused, OSError, ValueError):
        return None


def _preview_url(batch: ImportBatch) -> str:
    return reverse("imports:batch-preview", kwargs={"register": batch.register.slug, "code": batch.code})


def _polls(batch: ImportBatch) -> bool:
    return batch.state in RUNNING_STATES or batch.state == State.PREVIEWING


def undo_open(batch: ImportBatch) -> bool:
    """Tell whether the batch's state and age still allow an undo (the service checks both again)."""
    if State.UNDONE not in services.TRANSITIONS[batch.state]:
        return False
    finished = batch.finished_at or batch.created_at
    return timezone.now() - finished <= datetime.timedelta(days=services.UNDO_DAYS)


def _preview_stopped(request, batch: ImportBatch) -> None:
    """Say why the batch has no preview, if its last preview stopped before the end."""
    last = selectors.import_event_list(batch=batch).last()
    if last is not None and last.new == State.PREVIEWED and last.note:
        messages.error(request, ERROR_PREVIEW_STOPPED % {"reason": ImportEvent.Note(last.note).label})


@require_http_methods(["GET", "POST"])
def batch_list(request, register):
    register = _register(request, register)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.import_batch_create(
                actor=request.user,
                register=register,
                file=upload,
                file_name=upload.name,
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("imports:batch-mapping", register=register.slug, code=batch.code)
    paginator = Paginator(selectors.import_batch_list(user=request.user, register=register), PAGE_SIZE)
    page = paginator.get_page(page_number(request.GET.get("page")))
    rows = [(batch, undo_open(batch)) for batch in page.object_list]
    return render(request, "imports/batch_list.html", {"register": register, "form": form, "page": page, "rows": rows})


@require_GET
def batch_detail(request, register, code):
    register, batch = _batch(request, register, code)
    if batch.state in WAITING_STATES:
        step = "batch-preview" if batch.has_preview or batch.state == State.PREVIEWING else "batch-mapping"
        return redirect(f"imports:{step}", register=register.slug, code=code)
    events = list(selectors.import_event_list(batch=batch))
    undone = next((event for event in reversed(events) if event.new == State.UNDONE), None)
    context = {
        "register": register,
        "batch": batch,
        "events": events,
        "running": _polls(batch),
        "undo_open": undo_open(batch),
        "undo_result": undone.payload if undone else None,
        "kept": selectors.import_kept_list(batch=batch)[: services.MAX_ERRORS] if undone else [],
    }
    return render(request, "imports/batch_detail.html", context)


@require_GET
def batch_progress(request, register, code):
    register, batch = _batch(request, register, code)
    if not request.headers.get("HX-Request"):
        # Opened by itself (a bookmark, a browser without JavaScript): the batch's page shows the same progress.
        return _detail(batch)
    if batch.state == State.PREVIEWED:
        # The preview has ended: the page that polled shows its result (or the mapping, if it has none).
        response = HttpResponse(status=204)
        response["HX-Redirect"] = str(_preview_url(batch))
        return response
    context = {"register": register, "batch": batch, "running": _polls(batch)}
    return render(request, "imports/_batch_progress.html", context)


@require_http_methods(["GET", "POST"])
def batch_mapping(request, register, code):
    register, batch = _batch(request, register, code)
    if batch.state not in WAITING_STATES:
        messages.error(request, ERROR_NOT_WAITING)
        return _detail(batch)
    table = _table(batch)
    if table is None:
        messages.error(request, ERROR_FILE_GONE)
        return redirect("imports:batch-list", register=register.slug)
    samples = [list(row.cells) for row in itertools.islice(table.rows, SAMPLE_ROWS)]
    initial = batch.column_fields or suggest_mapping(table.headers, register=register, kind=batch.kind)
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        initial=mapping_initial(initial, batch.match_mode),
        register=register,
        kind=batch.kind,
        headers=list(table.headers),
        samples=samples,
    )
    if form.is_bound and form.is_valid():
        try:
            services.import_preview_start(
                actor=request.user, batch=batch, mapping=form.mapping(), match_mode=form.cleaned_data["match_mode"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("imports:batch-preview", register=register.slug, code=batch.code)
    hints = [] if form.is_bound else mapping_errors(initial, register=register, kind=batch.kind)
    context = {"register": register, "batch": batch, "form": form, "hints": hints}
    return render(request, "imports/batch_mapping.html", context)


@require_GET
def batch_preview(request, register, code):
    register, batch = _batch(request, register, code)
    if batch.state not in WAITING_STATES:
        return _detail(batch)
    if batch.state == State.PREVIEWED and not batch.has_preview:
        _preview_stopped(request, batch)
        return redirect("imports:batch-mapping", register=register.slug, code=code)
    errors = services.preview_errors(batch)
    likely_duplicates, likely_rows = selectors.preview_likely_duplicates(user=request.user, batch=batch)
    context = {
        "register": register,
        "batch": batch,
        "previewing": batch.state == State.PREVIEWING,
        "running": batch.state == State.PREVIEWING,
        "errors": errors[:ERRORS_SHOWN],
        "more_errors": len(errors) > ERRORS_SHOWN or batch.rejected > len(errors),
        "importing": batch.created + batch.updated,
        "likely_duplicates": likely_duplicates,
        "likely_rows": likely_rows,
    }
    return render(request, "imports/batch_preview.html", context)


@require_GET
def batch_rejected_csv(request, register, code):
    register, batch = _batch(request, register, code)
    if not (batch.has_preview and batch.rejected_file):
        return _detail(batch)
    try:
        file = batch.rejected_file.open("rb")
    except OSError:
        messages.error(request, ERROR_FILE_GONE)
        return _detail(batch)
    response = FileResponse(
        file, as_attachment=True, filename="rejected-rows.csv", content_type="text/csv; charset=utf-8"
    )
    log_access(request, batch, {"register": register, "export": "import_rejected_rows", "rows": batch.rejected})
    return response


@require_POST
def batch_start(request, register, code):
    register, batch = _batch(request, register, code)
    try:
        services.import_start(actor=request.user, batch=batch)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, MESSAGE_STARTED)
    return _detail(batch)


@require_POST
def batch_cancel(request, register, code):
    register, batch = _batch(request, register, code)
    try:
        services.import_cancel(actor=request.user, batch=batch)
    except ValidationError as error:
        _error(request, error)
        return _detail(batch)
    messages.success(request, MESSAGE_CANCELLED)
    return redirect("imports:batch-list", register=register.slug)


@require_http_methods(["GET", "POST"])
def batch_undo(request, register, code):
    register, batch = _batch(request, register, code)
    if request.method == "GET":
        if not undo_open(batch):
            messages.error(request, ERROR_UNDO_CLOSED)
            return _detail(batch)
        return render(request, "imports/batch_undo.html", {"register": register, "batch": batch})
    try:
        result = services.import_undo(actor=request.user, batch=batch)
    except ValidationError as error:
        _error(request, error)
    else:
        counts = {"deleted": result.deleted, "restored": result.restored, "kept": result.kept_count}
        message = MESSAGE_UNDONE if batch.kind == ImportBatch.Kind.CUSTOMERS else MESSAGE_UNDONE_ROWS
        messages.success(request, message % counts)
    return _detail(batch)
