"""Data-subject requests: the case, its append-only event trail, the records
found for the person, the answer package and the letters sent.

The state of a request changes only through `privacy.workflow.request_transition`;
`save()` and the queryset refuse any other change of `state`.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, ContactPerson, Customer
from registers.append_only import AppendOnlyModel
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalCharField, PersonalEmailField, PersonalTextField
from registers.models import Organisation, Register, TimeStampedModel

ERROR_STATE_OUTSIDE_WORKFLOW = _("The state of a request changes only through the request workflow.")
ERROR_EVENT_APPEND_ONLY = _("Request events are never changed or deleted.")


def _private_upload(folder: str, filename: str) -> str:
    # A random name: the original file name may carry personal data, and a
    # guessable name would be one more way to reach the file.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"privacy/{folder}/{uuid.uuid4().hex}.{extension[:5]}"


def mandate_upload_to(instance, filename: str) -> str:
    return _private_upload("mandates", filename)


def package_upload_to(instance, filename: str) -> str:
    return _private_upload("packages", filename)


class DataSubjectRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=DataSubjectRequest.OPEN_STATES)

    def update(self, **kwargs):
        if "state" in kwargs:
            raise ValidationError(ERROR_STATE_OUTSIDE_WORKFLOW, code="state_outside_workflow")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        if "state" in fields:
            raise ValidationError(ERROR_STATE_OUTSIDE_WORKFLOW, code="state_outside_workflow")
        return super().bulk_update(objs, fields, batch_size=batch_size)


class DataSubjectRequest(TimeStampedModel):
    """One request of a data subject (GDPR arts. 15-22) to one controller."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("access to one's data")
        RECTIFICATION = "rectification", _("rectification of data")
        ERASURE = "erasure", _("erasure of data")
        RESTRICTION = "restriction", _("restriction of processing")
        OBJECTION = "objection", _("objection to processing")
        PORTABILITY = "portability", _("data portability")
        CONSENT_WITHDRAWAL = "consent_withdrawal", _("withdrawal of consent")

    class Channel(models.TextChoices):
        WEB = "web", _("web form")
        EMAIL = "email", _("e-mail")
        POST = "post", _("letter")
        IN_PERSON = "in_person", _("in person")
        PHONE = "phone", _("phone")
        # Carried out by the city's customer profile through the GDPR API (api.gdpr) on the person's sign-in.
        PROFILE = "profile", _("the city's customer profile")
        # Filed by the person signed in with strong electronic identification on their "my data" pages (selfservice).
        MY_DATA = "my_data", _("the person's “my data” pages")

    class State(models.TextChoices):
        RECEIVED = "received", _("received, e-mail not confirmed")
        VERIFYING = "verifying", _("verifying identity")
        TRIAGE = "triage", _("triage")
        IN_PROGRESS = "in_progress", _("in progress")
        ON_HOLD = "on_hold", _("on hold")
        REVIEW = "review", _("waiting for approval")
        RESPONDED = "responded", _("answered")
        CLOSED = "closed", _("closed")
        CANNOT_IDENTIFY = "cannot_identify", _("cannot identify the person")
        DUPLICATE = "duplicate", _("duplicate")
        WITHDRAWN = "withdrawn", _("withdrawn")
        REFUSED = "refused", _("refused")
        PARTLY_REFUSED = "partly_refused", _("partly refused")

    class IdentityMethod(models.TextChoices):
        KNOWN_EMAIL = "known_email", _("known e-mail address confirmed")
        IN_PERSON_ID = "in_person_id", _("in person with an identity document")
        SIGNED_LETTER = "signed_letter", _("signed letter")
        STRONG_EID = "strong_eid", _("strong electronic identification")
        PROFILE_SIGN_IN = "profile_sign_in", _("signed in to the city's customer profile")

    class Delivery(models.TextChoices):
        ELECTRONIC = "electronic", _("electronically (download link by e-mail)")
        POST = "post", _("by post")
        IN_PERSON = "in_person", _("in person")

    class Language(models.TextChoices):
        FINNISH = "fi", _("Finnish")
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")

    # States in which the deadlines run and the request waits for someone.
    OPEN_STATES = frozenset({State.VERIFYING, State.TRIAGE, State.IN_PROGRESS, State.ON_HOLD, State.REVIEW})
    # States that answer the requester (the "answered on" date of the figures).
    ANSWER_STATES = frozenset({State.RESPONDED, State.REFUSED, State.PARTLY_REFUSED, State.CANNOT_IDENTIFY})
    # States that decide the request: only someone who may approve answers moves it there.
    DECISION_STATES = frozenset({State.RESPONDED, State.REFUSED, State.PARTLY_REFUSED})

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference number"), max_length=20, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="data_subject_requests", verbose_name=_("controller")
    )
    kind = models.CharField(_("request type"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("received through"), max_length=20, choices=Channel.choices)
    registers = models.ManyToManyField(
        Register, through="RequestRegister", related_name="data_subject_requests", verbose_name=_("registers")
    )
    all_registers = models.BooleanField(_("all registers of the controller"), default=False)
    requester_name = PersonalCharField(_("name"), max_length=200)
    requester_email = PersonalEmailField(_("e-mail"), blank=True)
    requester_phone = PersonalCharField(_("phone"), max_length=50, blank=True)
    requester_address = PersonalTextField(_("postal address"), blank=True)
    acting_for = PersonalCharField(_("acting on behalf of"), max_length=200, blank=True)
    mandate = models.FileField(_("mandate"), upload_to=mandate_upload_to, blank=True)
    details = PersonalTextField(_("details of the request"), blank=True)
    correction_what = PersonalTextField(_("what should be corrected"), blank=True)
    correction_why = PersonalTextField(_("why the data is wrong"), blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.FINNISH)
    delivery = models.CharField(
        _("delivery of the answer"), max_length=20, choices=Delivery.choices, default=Delivery.ELECTRONIC
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.RECEIVED)
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True, db_index=True)
    service_due_at = models.DateTimeField(_("answer promised by"), null=True, blank=True, db_index=True)
    legal_due_at = models.DateTimeField(_("legal deadline"), null=True, blank=True)
    extended_at = models.DateTimeField(_("deadline extended"), null=True, blank=True)
    extension_reason = PersonalTextField(_("reason for the extension"), blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("extended by"),
    )
    identity_method = models.CharField(
        _("identity verified by"), max_length=20, choices=IdentityMethod.choices, blank=True
    )
    identity_note = PersonalCharField(_("identity note"), max_length=300, blank=True)
    verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("identity verified by"),
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(_("prepared"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # The answer or end state a closed request reached (answered, refused, ...).
    outcome = models.CharField(_("outcome"), max_length=20, choices=State.choices, blank=True)
    decision_text = PersonalTextField(_("decision"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("duplicate of")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # sha256 of e-mail, kind and registers: finds repeated submissions without
    # comparing personal data in SQL.
    dedupe_key = models.CharField(max_length=64, blank=True, editable=False)

    objects = DataSubjectRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "service_due_at"], name="dsr_state_due"),
            models.Index(fields=["dedupe_key", "created_at"], name="dsr_dedupe"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(requester_name=""), name="dsr_requester_named"),
        ]

    def __str__(self) -> str:
        return self.reference

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_state = instance.__dict__.get("state")
        return instance

    def save(self, *args, **kwargs):
        # The workflow sets `_via_workflow`; anything else that would move the
        # state (admin, shell, a stray form) is refused.
        if not getattr(self, "_via_workflow", False):
            expected = self.State.RECEIVED if self._state.adding else getattr(self, "_loaded_state", self.state)
            if self.state != expected:
                raise ValidationError(ERROR_STATE_OUTSIDE_WORKFLOW, code="state_outside_workflow")
            if not self._state.adding and kwargs.get("update_fields") is None:
                # A stale instance saved after a transition must not write its
                # old state back over the new one.
                kwargs["update_fields"] = [
                    f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "state"
                ]
        super().save(*args, **kwargs)
        self._loaded_state = self.state

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.legal_due_at is not None and self.legal_due_at < timezone.now()

    @staticmethod
    def _days_left(due) -> int | None:
        if due is None:
            return None
        return (timezone.localdate(due) - timezone.localdate()).days

    @property
    def service_days_left(self) -> int | None:
        """Whole days to the service deadline, negative when overdue."""
        return self._days_left(self.service_due_at)

    @property
    def legal_days_left(self) -> int | None:
        """Whole days to the legal deadline, negative when overdue."""
        return self._days_left(self.legal_due_at)


class RequestRegister(models.Model):
    """A register a request concerns, and who checked it for the person's data."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="register_parts")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        verbose_name = _("register of a request")
        verbose_name_plural = _("registers of a request")
        constraints = [
            models.UniqueConstraint(fields=["request", "register"], name="request_register_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.request} / {self.register.slug}"


class RequestEvent(AppendOnlyModel):
    """One step of a request: a state change or an action on it. Append-only."""

    class Action(models.TextChoices):
        TRANSITION = "transition", _("state changed")
        EXTENSION = "extension", _("deadline extended")
        INFO_REQUESTED = "info_requested", _("more information asked")
        IDENTITY_VERIFIED = "identity_verified", _("identity verified")
        MATCHES_CONFIRMED = "matches_confirmed", _("register checked for the person's data")
        PACKAGE_BUILT = "package_built", _("answer package built")
        PACKAGE_DOWNLOADED = "package_downloaded", _("answer package downloaded")
        MANDATE_VIEWED = "mandate_viewed", _("mandate viewed")
        LETTER_QUEUED = "letter_queued", _("letter queued")
        # The rights of arts. 16-21 (privacy.models_rights).
        RECTIFICATION_PROPOSED = "rectification_proposed", _("correction requested")
        RECTIFICATION_APPLIED = "rectification_applied", _("data corrected")
        RECTIFICATION_REFUSED = "rectification_refused", _("correction refused")
        ERASURE_PLANNED = "erasure_planned", _("erasure plan computed")
        ERASURE_EXECUTED = "erasure_executed", _("erasure executed")
        RESTRICTION_APPLIED = "restriction_applied", _("processing restricted")
        RESTRICTION_LIFTED = "restriction_lifted", _("restriction lifted")
        OBJECTION_APPLIED = "objection_applied", _("objection recorded")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("consent withdrawn")
        NOTIFICATIONS_CREATED = "notifications_created", _("recipients to be notified")
        NOTIFICATION_RESOLVED = "notification_resolved", _("recipient notification resolved")
        REFUSAL_DECIDED = "refusal_decided", _("refusal decided")
        # A record the request matched was merged with its duplicates, or such a merge undone (duplicates app).
        RECORDS_MERGED = "records_merged", _("duplicate records merged")
        RECORDS_UNMERGED = "records_unmerged", _("merge of duplicate records undone")
        # Lifting a restriction after the person is told (GDPR 18(3)) and weighing an objection (21(1)), issue 22.
        RESTRICTION_LIFT_ASKED = "restriction_lift_asked", _("lifting of the restriction asked")
        RESTRICTION_LIFT_NOTICE_SENT = "restriction_lift_notice_sent", _("notice of lifting sent")
        RESTRICTION_LIFT_CANCELLED = "restriction_lift_cancelled", _("lifting of the restriction cancelled")
        OBJECTION_WEIGHING_OPENED = "objection_weighing_opened", _("objection to processing to be weighed")
        OBJECTION_WEIGHED = "objection_weighed", _("objection to processing weighed")

    class Note(models.TextChoices):
        """What the system says about a step, kept as a code in `payload["note"]` and worded in the reader's language.

        `reason` holds only what a person typed; text the system made would
        stay in the language of whoever happened to cause the step.
        """

        EMAIL_CONFIRMED = "email_confirmed", _("e-mail confirmed")
        RECORDED_BY_STAFF = "recorded_by_staff", _("recorded by staff")
        ANSWERED_ON_SITE = "answered_on_site", _("oral access request answered on site")
        CARRIED_OUT_BY_PROFILE = "carried_out_by_profile", _("carried out at once by the city's customer profile")
        WITHDRAWN_BY_REQUESTER = "withdrawn_by_requester", _("withdrawn by the requester")
        ANSWER_PREPARED = "answer_prepared", _("answer prepared")
        ANSWER_APPROVED = "answer_approved", _("answer approved")
        APPROVER_NOTE_ADDED = "approver_note_added", _("note of the approver added")
        REPEAT = "repeat", _("repeat of an earlier request")
        DECIDED = "decided", _("decided")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices, default=Action.TRANSITION)
    # Empty for the event that records the request's arrival.
    from_state = models.CharField(_("from"), max_length=20, choices=DataSubjectRequest.State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=DataSubjectRequest.State.choices)
    reason = PersonalTextField(_("reason"), blank=True)
    # Identifiers only (register slugs, record codes, counts): never personal data.
    payload = models.JSONField(default=dict, blank=True)

    append_only_message = ERROR_EVENT_APPEND_ONLY

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request} {self.from_state}→{self.to_state}"


class SubjectMatch(RegisterAuditMixin, models.Model):
    """A record the handler confirmed to be the requesting person's own."""

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="matches", verbose_name=_("request")
    )
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("customer")
    )
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact person"),
    )
    message = models.ForeignKey(
        ContactCentreMessage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact-centre message"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("confirmed by")
    )
    confirmed_at = models.DateTimeField(_("confirmed"))

    class Meta:
        verbose_name = _("confirmed record of the person")
        verbose_name_plural = _("confirmed records of the person")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(customer__isnull=False, contact_person__isnull=True, message__isnull=True)
                    | models.Q(customer__isnull=True, contact_person__isnull=False, message__isnull=True)
                    | models.Q(customer__isnull=True, contact_person__isnull=True, message__isnull=False)
                ),
                name="subject_match_exactly_one_record",
            ),
            models.UniqueConstraint(fields=["request", "customer"], name="subject_match_unique_customer"),
            models.UniqueConstraint(fields=["request", "contact_person"], name="subject_match_unique_contact_person"),
            models.UniqueConstraint(fields=["request", "message"], name="subject_match_unique_message"),
        ]

    def __str__(self) -> str:
        return f"{self.request} / {self.record}"

    @property
    def record(self):
        return self.customer or self.contact_person or self.message

    @property
    def record_kind(self) -> str:
        return str(self.record._meta.verbose_name)


class Redaction(models.Model):
    """An item withheld from an answer, with the legal reason (GDPR 15(4))."""

    class Reason(models.TextChoices):
        OTHERS_RIGHTS = "gdpr_15_4", _("GDPR art. 15(4): the rights and freedoms of others")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="redactions")
    package = models.ForeignKey("ResponsePackage", on_delete=models.CASCADE, related_name="redactions")
    item = PersonalCharField(_("item"), max_length=120)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.OTHERS_RIGHTS)
    note = PersonalCharField(_("note"), max_length=300, blank=True)
    automatic = models.BooleanField(_("made automatically"), default=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("redaction")
        verbose_name_plural = _("redactions")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.item}: {self.reason}"


class ResponsePackage(models.Model):
    """The answer to an access request: a letter (HTML, PDF) and the data as JSON."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.PROTECT, related_name="packages", verbose_name=_("request")
    )
    generated_at = models.DateTimeField(_("generated"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("built by")
    )
    html = models.FileField(_("HTML file"), upload_to=package_upload_to, blank=True)
    pdf = models.FileField(_("PDF file"), upload_to=package_upload_to, blank=True)
    json = models.FileField(_("JSON file"), upload_to=package_upload_to, blank=True)
    # sha256 of the JSON document (the content); the per-file sums pin the
    # letter the approver saw to the one the requester downloads.
    sha256 = models.CharField(_("checksum (SHA-256)"), max_length=64)
    file_sha256 = models.JSONField(_("checksums of the files"), default=dict)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    expires_at = models.DateTimeField(_("download link expires"), null=True, blank=True)
    download_count = models.PositiveIntegerField(_("downloads"), default=0)
    files_deleted_at = models.DateTimeField(_("files deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("answer package")
        verbose_name_plural = _("answer packages")
        ordering = ["-generated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.request} {self.generated_at:%Y-%m-%d}"

    def file_for(self, fmt: str):
        return {"html": self.html, "pdf": self.pdf, "json": self.json}[fmt]

    def files_set(self, *, stem: str, html: bytes, document: bytes) -> None:
        """Store the letter (HTML) and the data (JSON) with their digests; the PDF, if any, is the caller's."""
        self.html.save(f"{stem}.html", ContentFile(html), save=False)
        self.json.save(f"{stem}.json", ContentFile(document), save=False)
        self.sha256 = hashlib.sha256(document).hexdigest()
        self.file_sha256 = {"html": hashlib.sha256(html).hexdigest(), "json": self.sha256}


class PackageDownload(models.Model):
    """One download of an answer package, by the requester's link or by staff."""

    package = models.ForeignKey(ResponsePackage, on_delete=models.PROTECT, related_name="downloads")
    at = models.DateTimeField(_("time"))
    fmt = models.CharField(_("format"), max_length=10)
    by_requester = models.BooleanField(_("through the requester's link"), default=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("package download")
        verbose_name_plural = _("package downloads")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.package} {self.fmt} {self.at:%Y-%m-%d %H:%M}"


class Correspondence(models.Model):
    """A letter to the requester: stored first, then sent by a task (outbox)."""

    class Kind(models.TextChoices):
        CONFIRM_EMAIL = "confirm_email", _("e-mail confirmation")
        ACKNOWLEDGEMENT = "acknowledgement", _("acknowledgement of receipt")
        INFO_REQUEST = "info_request", _("request for more information")
        EXTENSION_NOTICE = "extension_notice", _("notice of extension")
        CANNOT_IDENTIFY = "cannot_identify", _("cannot identify letter")
        ANSWER_READY = "answer_ready", _("answer ready")
        DECISION = "decision", _("decision letter")
        # Issue 22: one reminder before the confirmation link expires, and the notice before a restriction is lifted.
        CONFIRM_REMINDER = "confirm_reminder", _("reminder to confirm the e-mail address")
        RESTRICTION_LIFT_NOTICE = "restriction_lift_notice", _("notice of lifting a restriction")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="correspondence")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    package = models.ForeignKey(ResponsePackage, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="correspondence_outbox")]

    def __str__(self) -> str:
        return f"{self.request} {self.kind}"


class ReferenceCounter(models.Model):
    """The last reference number used in a year (DSR-2026-000123)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
