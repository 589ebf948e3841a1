import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalTextField
from registers.models import Register, TimeStampedModel


class RecordKind(models.TextChoices):
    CUSTOMER = "customer", _("customer")
    CONTACT_PERSON = "contact_person", _("contact person")


class DuplicateCandidate(RegisterAuditMixin, TimeStampedModel):
    """Two customers (or two contact persons of one organisation) that look like the same one.

    The nightly scan (duplicates.detection) rewrites the open candidates of a register; a dismissed pair
    keeps its row, so that the scan never proposes it again.
    """

    class State(models.TextChoices):
        OPEN = "open", _("open")
        DISMISSED = "dismissed", _("not a duplicate")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(Register, on_delete=models.CASCADE, related_name="+", verbose_name=_("register"))
    kind = models.CharField(_("kind"), max_length=20, choices=RecordKind.choices, default=RecordKind.CUSTOMER)
    # The pair in pk order (first < second), so that a pair has one row whichever way it was found.
    first = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", null=True, blank=True, verbose_name=_("customer")
    )
    second = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", null=True, blank=True, verbose_name=_("looks like")
    )
    first_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("contact person"),
    )
    second_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("looks like"),
    )
    score = models.FloatField(_("score"))
    # [{"code": "same_email"}, {"code": "similar_name", "similarity": 0.87}, ...] (duplicates.detection.REASONS)
    reasons = models.JSONField(_("reasons"), default=list)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)

    class Meta:
        verbose_name = _("likely duplicate")
        verbose_name_plural = _("likely duplicates")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_candidate_customer_pair"),
            models.UniqueConstraint(
                fields=["first_person", "second_person"], name="duplicate_candidate_contact_person_pair"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="customer",
                        first__isnull=False,
                        second__isnull=False,
                        first_person__isnull=True,
                        second_person__isnull=True,
                        first__lt=models.F("second"),
                    )
                    | models.Q(
                        kind="contact_person",
                        first__isnull=True,
                        second__isnull=True,
                        first_person__isnull=False,
                        second_person__isnull=False,
                        first_person__lt=models.F("second_person"),
                    )
                ),
                name="duplicate_candidate_one_ordered_pair",
            ),
        ]
        indexes = [models.Index(fields=["register", "state", "-score"], name="duplicate_candidate_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.first_id or self.first_person_id} - {self.second_id or self.second_person_id}"


class CustomerMerge(RegisterAuditMixin, TimeStampedModel):
    """One merge of customers (or of contact persons of one organisation), with what it takes to undo it.

    `images` holds the before-images: every merged-away record and every row the merge had to delete, as
    serialised rows, and the survivor's fields before and after. `moved` names every row whose reference
    the merge moved, per model and field, so that the undo moves exactly those back.
    """

    class State(models.TextChoices):
        DONE = "done", _("merged")
        UNDONE = "undone", _("undone")

    UNDO_DAYS = 30

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    kind = models.CharField(_("kind"), max_length=20, choices=RecordKind.choices, default=RecordKind.CUSTOMER)
    # The surviving customer, or for a merge of contact persons their organisation. CASCADE: erasing or
    # purging the survivor takes the before-images with it. A later merge of the survivor moves this row
    # along (it points at a customer like any other row), which is how "merged again" is recognised.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="merges", verbose_name=_("surviving customer")
    )
    survivor_pk = models.BigIntegerField(_("record kept"))
    survivor_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="merges",
        verbose_name=_("surviving contact person"),
    )
    # [{"pk": ..., "code": ..., "name": ...}] of the records merged away: shown after the images are gone.
    merged = models.JSONField(_("merged records"), default=list)
    images = models.JSONField(default=dict, editable=False)
    moved = models.JSONField(default=dict, editable=False)
    reason = PersonalTextField(_("reason"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DONE)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("merged by")
    )
    merged_at = models.DateTimeField(_("merged"), default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undo_reason = PersonalTextField(_("reason for the undo"), blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at", "-id"]
        indexes = [models.Index(fields=["customer", "-merged_at"], name="customer_merge_survivor")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.survivor_pk} {self.merged_at:%Y-%m-%d}"

    @property
    def undo_until(self) -> datetime.datetime:
        return self.merged_at + datetime.timedelta(days=self.UNDO_DAYS)
