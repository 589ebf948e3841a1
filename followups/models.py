"""A follow-up: something a staff user is to do about a customer or one of its contact persons, by a date.

An open follow-up is work; a done one is history and shows on the customer's timeline beside the interactions.
Both are personal data of the customer (the note may name the person): they travel in the access package,
follow a merge, and go with the customer when it is purged or erased (CASCADE).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer, PersonalDataModel
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalTextField


class FollowUpQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done_at__isnull=True)

    def done(self):
        return self.filter(done_at__isnull=False)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())


class FollowUp(RegisterAuditMixin, PersonalDataModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer")
    )
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("contact person"),
    )
    # A user with a role in the customer's register (checked by the service when assigned).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups", verbose_name=_("assignee")
    )
    due_on = models.DateField(_("due"))
    note = PersonalTextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = FollowUpQuerySet.as_manager()

    DATA_FIELDS = ("due_on", "note", "done_at")

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]
        indexes = [
            # "My follow-ups" and the digest: a user's open follow-ups by due date.
            models.Index(fields=["assignee", "done_at", "due_on"], name="followup_assignee_due"),
            models.Index(fields=["customer", "done_at"], name="followup_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.due_on:%Y-%m-%d} {self.customer}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.due_on < timezone.localdate()

    def clean(self) -> None:
        if self.contact_person_id is not None and self.contact_person.customer_id != self.customer_id:
            raise ValidationError({"contact_person": _("The contact person belongs to another customer.")})


class DigestDelivery(models.Model):
    """The day a user's follow-up digest was sent: a retried or doubled beat run sends it once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    followups = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "sent_on"], name="digest_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user} {self.sent_on}"
