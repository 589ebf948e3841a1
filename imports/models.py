"""Import batches: one uploaded file brought into one register, and the record of every customer it touched.

The state of a batch changes only through `imports.services.import_transition`, which appends an
`ImportEvent` per move. `ImportedRecord` keeps, for each created or updated customer, the values the import
replaced: undo restores them from the batch's own record, never from the audit trail.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer, Interaction
from registers.fields import PersonalCharField
from registers.models import Register, TimeStampedModel

from .mapping import KIND_CONTACT_PERSONS, KIND_CUSTOMERS, KIND_INTERACTIONS


def import_upload_to(instance, filename: str) -> str:
    # A random name: the uploaded file's own name may carry personal data, and a guessable
    # name would be one more way to reach a file full of it.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"imports/{uuid.uuid4().hex}.{extension[:5]}"


class ImportBatch(TimeStampedModel):
    """One file imported into one register: who, when, which file, how it was mapped, and what it did."""

    class Kind(models.TextChoices):
        CUSTOMERS = KIND_CUSTOMERS, _("customers")
        CONTACT_PERSONS = KIND_CONTACT_PERSONS, _("contact persons")
        INTERACTIONS = KIND_INTERACTIONS, _("interactions")

    class MatchMode(models.TextChoices):
        SKIP = "skip", _("skip existing customers")
        FILL_EMPTY = "fill_empty", _("fill in only empty fields of existing customers")
        OVERWRITE = "overwrite", _("overwrite the mapped fields of existing customers")

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        PREVIEWING = "previewing", _("previewing")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        UNDONE = "undone", _("undone")
        CANCELLED = "cancelled", _("cancelled")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="import_batches", verbose_name=_("register")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CUSTOMERS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    file_name = PersonalCharField(_("file name"), max_length=255)
    checksum = models.CharField(_("checksum (SHA-256)"), max_length=64)
    file = models.FileField(_("file"), upload_to=import_upload_to, blank=True)
    # {column index (as text, JSON keys are strings): Customer field name}
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    match_mode = models.CharField(_("existing customers"), max_length=20, choices=MatchMode.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PREVIEWED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("unchanged"), default=0)
    duplicate = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    # The preview, run once in the background (imports.tasks.import_preview) and kept until the rows are in.
    # The token names the run whose result counts: a changed mapping starts a new run and the old one's
    # result is dropped.
    preview_token = models.UUIDField(null=True, blank=True, editable=False)
    previewed_at = models.DateTimeField(_("previewed"), null=True, blank=True)
    rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    # The first errors as [row, column, message]: the message worded in the language of whoever asked for
    # the preview, as the rejected rows' file is.
    preview_errors = models.JSONField(default=list, blank=True)
    # The rejected rows with an error column, ready to download: as personal as the upload, deleted with it.
    rejected_file = models.FileField(_("rejected rows"), upload_to=import_upload_to, blank=True)
    # Rows of the file read and committed so far: a resumed run continues after them.
    progress = models.PositiveIntegerField(_("rows done"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["register", "-created_at"], name="import_batch_register")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def column_fields(self) -> dict[int, str]:
        """Return the mapping with its column indexes as numbers."""
        return {int(index): name for index, name in self.mapping.items()}

    @property
    def has_preview(self) -> bool:
        """Tell whether the stored preview belongs to the current mapping (and can be started)."""
        return self.state == self.State.PREVIEWED and self.previewed_at is not None

    @property
    def percent_done(self) -> int:
        if not self.rows:
            return 100 if self.state == self.State.DONE else 0
        return min(100, self.progress * 100 // self.rows)


class ImportEvent(models.Model):
    """One move of a batch from state to state: append-only."""

    class Note(models.TextChoices):
        """What the system says about a move, kept as a code and worded when read, in the reader's language."""

        RESUMED = "resumed", _("resumed after an interrupted run")
        FILE_CHANGED = "file_changed", _("the stored file no longer matches the previewed one")
        FILE_MISSING = "file_missing", _("the stored file is missing")
        ERROR = "error", _("the import stopped on an error")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="events", verbose_name=_("batch"))
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    old = models.CharField(_("from"), max_length=20, choices=ImportBatch.State.choices, blank=True)
    new = models.CharField(_("to"), max_length=20, choices=ImportBatch.State.choices)
    note = models.CharField(_("note"), max_length=20, choices=Note.choices, blank=True)
    # Numbers only (rows applied, customers kept), never personal data.
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("import event")
        verbose_name_plural = _("import events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.old}→{self.new}"


class ImportedRecord(models.Model):
    """A customer an import created or updated, with the values the import replaced."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")

    class Kept(models.TextChoices):
        """Why an undo left the customer as it is."""

        CHANGED = "changed", _("changed since the import")
        OPEN_REQUEST = "open_request", _("in an open data-subject request")
        OPEN_INVOICE = "open_invoice", _("has an open invoice or a debt in collection")
        LEGAL_HOLD = "legal_hold", _("under a legal hold")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records", verbose_name=_("batch"))
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("customer")
    )
    # A batch of contact persons or interactions records those instead (the kind of the batch says which).
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact person"),
    )
    interaction = models.ForeignKey(
        Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("interaction")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    row_number = models.PositiveIntegerField(_("row"))
    # The customer's version right after the import wrote it: a higher one means someone changed it since.
    version = models.PositiveIntegerField()
    # {field name: value before the import} of the fields an update changed, as JSON-ready values.
    old_values = models.JSONField(default=dict, blank=True)
    kept = models.CharField(_("kept because"), max_length=20, choices=Kept.choices, blank=True)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        ordering = ["batch", "row_number"]
        indexes = [models.Index(fields=["batch", "id"], name="imported_record_batch")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number} {self.action}"

    @property
    def target(self):
        """Return the customer, contact person or interaction the import wrote (None once deleted)."""
        return self.customer or self.contact_person or self.interaction
