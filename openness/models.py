"""Requests for documents under the Act on the Openness of Government Activities (621/1999): anyone may ask an
authority for its documents; the clock, the refusal path and the check before personal data leaves a personal
data file are the act's own (`docs/openness.md`)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers.append_only import AppendOnlyModel
from registers.fields import PersonalCharField, PersonalEmailField, PersonalTextField
from registers.models import Organisation, Register, TimeStampedModel

ERROR_EVENT_APPEND_ONLY = _("The history of a document request cannot be changed.")


class DocumentRequest(TimeStampedModel):
    """One request for documents, from its receipt to its answer, decision and possible appeal."""

    class Channel(models.TextChoices):
        WEB = "web", _("web form")
        EMAIL = "email", _("e-mail")
        POST = "post", _("letter")
        IN_PERSON = "in_person", _("in person")
        PHONE = "phone", _("phone")

    class RequesterKind(models.TextChoices):
        NOT_TOLD = "not_told", _("not told")
        PRIVATE = "private", _("a private person")
        MEDIA = "media", _("the media")
        COMPANY = "company", _("a company or association")
        AUTHORITY = "authority", _("another authority")

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        IN_REVIEW = "in_review", _("being handled")
        AWAITING_CHOICE = "awaiting_choice", _("refused: asked whether a decision is wanted")
        DECISION_PENDING = "decision_pending", _("written decision being prepared")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")
        WITHDRAWN = "withdrawn", _("withdrawn")
        TRANSFERRED = "transferred", _("transferred to another authority")

    class Outcome(models.TextChoices):
        GRANTED = "granted", _("granted")
        PARTLY_GRANTED = "partly_granted", _("partly granted (secret parts removed)")
        REFUSED = "refused", _("refused")
        NOT_HELD = "not_held", _("no such document")
        TRANSFERRED = "transferred", _("transferred to another authority")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Delivery(models.TextChoices):
        EMAIL = "email", _("by e-mail")
        COPY = "copy", _("as a copy")
        VIEWING = "viewing", _("viewed at the office")

    class ExtensionReason(models.TextChoices):
        # Act 621/1999 14(4): the grounds of the one-month time (the Chancellor of Justice's reading, AOK 424/1/07).
        MANY_DOCUMENTS = "many_documents", _("the request concerns many documents")
        SECRET_PARTS = "secret_parts", _("the documents have secret parts")
        UNUSUAL_WORK = "unusual_work", _("the handling needs special measures or unusual work")

    class DecisionWanted(models.TextChoices):
        YES = "yes", _("wants a written decision")
        NO = "no", _("does not want a decision")
        NO_REPLY = "no_reply", _("did not reply")

    class Language(models.TextChoices):
        FINNISH = "fi", _("Finnish")
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")

    OPEN_STATES = frozenset({State.RECEIVED, State.IN_REVIEW, State.AWAITING_CHOICE, State.DECISION_PENDING})
    # While the clock of 14 § runs: until the documents are given or the refusal is told.
    CLOCK_STATES = frozenset({State.RECEIVED, State.IN_REVIEW})

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    diary_number = models.CharField(_("diary number"), max_length=30, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="document_requests", verbose_name=_("authority")
    )
    # The personal data files the request asks data from (16(3) §); none for other documents.
    registers = models.ManyToManyField(
        Register, blank=True, related_name="document_requests", verbose_name=_("personal data files")
    )
    channel = models.CharField(_("received through"), max_length=20, choices=Channel.choices)
    written = models.BooleanField(_("made in writing"), default=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    request_text = PersonalTextField(_("documents asked for"), max_length=5000)
    requester_name = PersonalCharField(_("name"), max_length=200, blank=True)
    requester_email = PersonalEmailField(_("e-mail"), blank=True)
    requester_address = PersonalTextField(_("postal address"), blank=True, max_length=500)
    requester_kind = models.CharField(
        _("requester"), max_length=20, choices=RequesterKind.choices, default=RequesterKind.NOT_TOLD
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.FINNISH)
    # 11 §: a party to a matter may get even secret documents that affected its handling; the handler reviews the
    # secrecy of each document with that in mind.
    as_party = models.BooleanField(_("asks as a party to a matter (11 §)"), default=False)
    party_matter = PersonalCharField(_("the matter"), max_length=300, blank=True)
    # 13(2) §: asked only where the act needs them, for personal data from a personal data file.
    purpose = PersonalTextField(_("purpose of use"), blank=True, max_length=2000)
    recipient_legal_basis = PersonalCharField(
        _("the recipient's right to process the data"), max_length=300, blank=True
    )
    marketing_use = models.BooleanField(
        _("for direct marketing, opinion or market research, or address use"), default=False
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.RECEIVED)
    due_at = models.DateTimeField(_("answer at the latest by"), db_index=True)
    extended_at = models.DateTimeField(_("time extended"), null=True, blank=True)
    extension_reason = models.CharField(
        _("reason for the longer time"), max_length=20, choices=ExtensionReason.choices, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices, blank=True)
    fee_amount = models.DecimalField(_("fee (euros)"), max_digits=8, decimal_places=2, null=True, blank=True)
    fee_basis = PersonalCharField(_("basis of the fee"), max_length=300, blank=True)
    refusal_reason = PersonalTextField(_("reason for the refusal"), blank=True, max_length=5000)
    decision_wanted = models.CharField(_("written decision"), max_length=10, choices=DecisionWanted.choices, blank=True)
    decision_text = PersonalTextField(_("decision"), blank=True, max_length=10000)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    appealed = models.BooleanField(_("appealed to the administrative court"), default=False)
    transferred_to = PersonalCharField(_("transferred to"), max_length=200, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("document request")
        verbose_name_plural = _("document requests")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return self.diary_number

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.state in self.CLOCK_STATES and self.due_at < timezone.now()


class DocumentRequestEvent(AppendOnlyModel):
    """One step of a document request: a state change or an action on it. Append-only."""

    class Action(models.TextChoices):
        TRANSITION = "transition", _("state changed")
        EXTENSION = "extension", _("time extended to one month")
        REMINDER = "reminder", _("deadline reminder sent")
        APPEAL = "appeal", _("appeal recorded")
        DISCLOSURE = "disclosure", _("personal data given (16(3) §)")

    request = models.ForeignKey(DocumentRequest, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, default=Action.TRANSITION)
    from_state = models.CharField(_("from"), max_length=20, choices=DocumentRequest.State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=DocumentRequest.State.choices)
    reason = PersonalTextField(_("reason"), blank=True)
    # Identifiers and codes only, never personal data.
    payload = models.JSONField(default=dict, blank=True)

    append_only_message = ERROR_EVENT_APPEND_ONLY

    class Meta:
        verbose_name = _("document request event")
        verbose_name_plural = _("document request events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.from_state}→{self.to_state}"


class DiaryCounter(models.Model):
    """The last diary number used in a year (DOC-2026-000123)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("diary counter")
        verbose_name_plural = _("diary counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
