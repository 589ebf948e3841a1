"""Retention: legal holds that stop purging, and the record of each purge run (counts only, no personal data).

The retention periods themselves are not a table: `privacy.retention` reads them from `Register.retention_months`
(the same field the public description states) and from settings, so the notice and the purge cannot disagree.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from registers.fields import PersonalCharField, PersonalTextField
from registers.models import Register, TimeStampedModel

__all__ = ["HoldType", "LegalHold", "PurgeCount", "PurgeKind", "PurgeRun", "PurgeRunStatusChange"]


class PurgeKind(models.TextChoices):
    CUSTOMER = "customer", _("customers with their contact persons, history and invoices")
    CALL_RECORDING = "call_recording", _("call recordings")
    CONTACT_CENTRE_MESSAGE = "contact_centre_message", _("contact-centre messages")
    REQUEST_FILE = "request_file", _("closed data-subject request files")
    AUDIT_ENTRY = "audit_entry", _("audit trail entries (changes and views)")
    LOGIN_LOG = "login_log", _("sign-in and failed sign-in logs")


class HoldType(models.TextChoices):
    OPEN_INVOICE = "open_invoice", _("open invoice or debt in collection")
    OPEN_REQUEST = "open_request", _("open data-subject request")
    LEGAL_HOLD = "legal_hold", _("legal hold set by the register owner")
    REFERENCED = "referenced", _("still referenced by other records")


class LegalHoldQuerySet(models.QuerySet):
    def active(self, on=None):
        today = on or timezone.localdate()
        return self.filter(released_at__isnull=True, starts_on__lte=today, ends_on__gte=today)


class LegalHold(TimeStampedModel):
    """An owner's decision that data must not be purged until a date, with the reason (e.g. a pending claim)."""

    class Scope(models.TextChoices):
        REGISTER = "register", _("the whole register")
        CUSTOMER = "customer", _("one customer")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="legal_holds", verbose_name=_("register")
    )
    scope = models.CharField(_("applies to"), max_length=20, choices=Scope.choices, default=Scope.CUSTOMER)
    # SET_NULL, not CASCADE: the decision stays on record if the customer is erased on request; a customer
    # hold whose customer is gone holds nothing, because the scope never widens to the register.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("customer"),
    )
    reason = PersonalTextField(_("reason"), help_text=_("Name the matter, not the person."))
    starts_on = models.DateField(_("starts"), default=timezone.localdate)
    ends_on = models.DateField(_("ends"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("placed by")
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_reason = PersonalCharField(_("reason for release"), max_length=300, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="legal_hold_ends_after_start",
                violation_error_message=_("The end date must not be before the start date."),
            ),
            models.CheckConstraint(
                condition=models.Q(scope="customer") | models.Q(customer__isnull=True),
                name="legal_hold_register_scope_has_no_customer",
            ),
        ]
        indexes = [models.Index(fields=["register", "released_at", "ends_on"], name="legal_hold_active")]

    def __str__(self) -> str:
        return f"{self.register} {self.get_scope_display()} {self.ends_on:%Y-%m-%d}"

    def clean(self) -> None:
        if self.scope == self.Scope.CUSTOMER and self._state.adding and self.customer_id is None:
            raise ValidationError({"customer": _("Choose the customer the hold applies to.")})
        if self.customer_id is not None and self.customer.register_id != self.register_id:
            raise ValidationError({"customer": _("The customer belongs to another register.")})
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("Give the reason for the hold.")})


class PurgeRun(models.Model):
    """One run of the retention purge: when, by what, and its outcome. Holds counts only."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")
        SKIPPED = "skipped", _("skipped")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("daily schedule")
        MANUAL = "manual", _("started by a user")
        COMMAND = "command", _("management command")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(_("started by"), max_length=20, choices=Trigger.choices)
    register = models.ForeignKey(
        Register,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("register"),
        help_text=_("Empty: every register."),
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    batches = models.PositiveIntegerField(_("batches"), default=0)
    # Exception class or skip reason; never a message that could quote data.
    note = PersonalCharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("purge run")
        verbose_name_plural = _("purge runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


class PurgeRunStatusChange(models.Model):
    run = models.ForeignKey(PurgeRun, on_delete=models.CASCADE, related_name="status_changes")
    old = models.CharField(max_length=20, choices=PurgeRun.Status.choices)
    new = models.CharField(max_length=20, choices=PurgeRun.Status.choices)
    reason = PersonalCharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.old} → {self.new}"


class PurgeCount(models.Model):
    """How many records of one kind in one register a run purged, and how many each hold type kept."""

    run = models.ForeignKey(PurgeRun, on_delete=models.CASCADE, related_name="counts")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=30, choices=PurgeKind.choices)
    due = models.PositiveIntegerField(_("past retention"), default=0)
    purged = models.PositiveIntegerField(_("purged"), default=0)
    # {hold type: count}; a record kept by two holds counts under both.
    held = models.JSONField(_("held back"), default=dict)
    # Rows removed with the purged records, per model label (e.g. {"crm.interaction": 12}).
    cascaded = models.JSONField(_("removed with them"), default=dict)

    class Meta:
        verbose_name = _("purge count")
        verbose_name_plural = _("purge counts")
        ordering = ["run", "register", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["run", "register", "kind"], name="purge_count_unique_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.purged}"
