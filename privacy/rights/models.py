"""The other rights of the data subject (GDPR arts. 16-21): what was changed, erased, kept, refused and told.

- `Disclosure`: the ledger of data handed outside the register (recipient, data, legal basis, time, actor); the
  source of the recipients in an access answer (art. 15(1)(c)) and of the art. 19 notification tasks.
- `NotificationTask`: one per recipient per request whose rectification, erasure or restriction must be passed on.
- `ConsentRecord` / `ObjectionRecord`: the history of consents and objections per customer, register and purpose,
  each with its evidence (GDPR 7(1)): the notice version and language shown, the channel, the time, who recorded it,
  and the same for a withdrawal.
- `ConsentNotice`: the versioned text a person is shown before consenting, withdrawing a consent or objecting.
- `RectificationItem`: one requested change of one field, shown beside the stored value, applied or refused.
- `ErasurePlan` / `ErasureAction`: the dry run of an erasure, per object delete / anonymise / keep with its ground.
- `Refusal`: the legal grounds and reasons of a whole or partial refusal (GDPR 12(4)).
- `DecisionLetter`: the letter that answered the request, as sent, in the requester's language.

Rows that prove what was done are append-only in practice: services create them and only ever fill in their
outcome fields. Nothing here stores erased values: plans and events name objects by their public codes only.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer
from registers.append_only import AppendOnlyModel, AppendOnlyQuerySet
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalCharField, PersonalTextField
from registers.models import TEXT_LANGUAGES, Register, TimeStampedModel, TranslatedTexts

__all__ = [
    "ConsentNotice",
    "ConsentRecord",
    "DecisionLetter",
    "Disclosure",
    "ErasureAction",
    "ErasurePlan",
    "NotificationTask",
    "ObjectionRecord",
    "RectificationItem",
    "Refusal",
    "RefusalGround",
]

ERROR_GROUND_REQUIRED = _("Choose at least one legal ground for the refusal.")
ERROR_GROUND_UNKNOWN = _("Unknown legal ground: %(code)s.")
ERROR_REFUSAL_TEXT_REQUIRED = _("Explain the refusal to the requester in your own words.")
ERROR_JUSTIFICATION_REQUIRED = _(
    "Explain why notifying this recipient is impossible or would take disproportionate effort."
)
ERROR_WITHDRAWN_BEFORE_GIVEN = _("A withdrawal cannot be dated before the consent or objection was given.")
ERROR_NOTICE_LANGUAGE_MISSING = _("Name the language in which the notice was shown.")
ERROR_NOTICE_LANGUAGE_WITHOUT_NOTICE = _("A language is recorded only with the notice that was shown in it.")
ERROR_NOTICE_NOT_IN_LANGUAGE = _("This notice has no text in the language named.")
ERROR_NOTICE_OTHER_USE = _("This notice is not the one of this register and purpose.")
ERROR_NOTICE_APPEND_ONLY = _("A notice is never changed or deleted once saved: add a new version instead.")
ERROR_NOTICE_TEXT_REQUIRED = _("Write the notice in at least one language.")
ERROR_NOTICE_PURPOSE = _("This purpose does not fit this kind of notice.")
ERROR_NOTICE_VERSION_TAKEN = _("This register already has a version with this label for the same purpose.")


class NoticeLanguage(models.TextChoices):
    """The languages a notice is written and shown in (registers.models.TEXT_LANGUAGES)."""

    FINNISH = "fi", _("Finnish")
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


class RefusalGround(models.TextChoices):
    """The provisions a refusal (whole or partial) may rest on; each letter quotes the label."""

    CANNOT_IDENTIFY = "gdpr_11_2", _("GDPR art. 11(2): the person could not be identified")
    UNFOUNDED = "gdpr_12_5", _("GDPR art. 12(5): the request is manifestly unfounded or excessive")
    OTHERS_RIGHTS = "gdpr_15_4", _("GDPR art. 15(4): the rights and freedoms of other people")
    DATA_ACCURATE = "gdpr_16_accurate", _("GDPR art. 16: the data is accurate (checked against its source)")
    ARCHIVE_AS_SENT = (
        "archive_as_sent",
        _("Contact-centre archive: messages are kept exactly as sent, so rectification does not apply to them"),
    )
    LEGAL_OBLIGATION = (
        "gdpr_17_3_b",
        _("GDPR art. 17(3)(b): keeping the data is required by law or for a task in the public interest"),
    )
    ARCHIVING = "gdpr_17_3_d", _("GDPR art. 17(3)(d): archiving in the public interest")
    LEGAL_CLAIMS = (
        "gdpr_17_3_e",
        _("GDPR art. 17(3)(e): the data is needed for legal claims (open invoice, debt in collection, pending claim)"),
    )
    NOT_CONSENT_OR_CONTRACT = (
        "gdpr_20_1",
        _(
            "GDPR art. 20(1) and recital 68: portability covers only processing based on consent or a contract, "
            "not processing for a task in the public interest"
        ),
    )
    COMPELLING_GROUNDS = "gdpr_21_1", _("GDPR art. 21(1): compelling legitimate grounds for the processing")
    ACCESS_RESTRICTED = "tisl_34", _("Data Protection Act 1050/2018 34 §: restriction of the right of access")
    SECRECY = "act_621_1999", _("Act on the Openness of Government Activities 621/1999: secrecy provisions")


def grounds_validate(codes) -> None:
    """Raise ValidationError unless `codes` holds at least one known refusal ground."""
    if not codes:
        raise ValidationError({"grounds": ERROR_GROUND_REQUIRED}, code="ground_required")
    for code in codes:
        if code not in RefusalGround.values:
            raise ValidationError({"grounds": ERROR_GROUND_UNKNOWN}, code="ground_unknown", params={"code": code})


class Disclosure(TimeStampedModel):
    """One handing-over of a person's data outside the register: to whom, what, on which basis, when, by whom."""

    class RecipientKind(models.TextChoices):
        LEGAL_SERVICES = "legal_services", _("the city's legal services")
        ACCOUNTS_PAYABLE = "accounts_payable", _("accounts payable")
        PARTNER = "partner", _("a named partner")
        OPENNESS_ACT = "openness_act", _("a requester under the Openness Act 621/1999")
        AUTHORITY = "authority", _("another authority")
        OTHER = "other", _("other")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="disclosures", verbose_name=_("register")
    )
    # SET_NULL: the ledger outlives an erasure, so that the erasure itself can still be passed on (GDPR 19).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
        verbose_name=_("customer"),
    )
    recipient = PersonalCharField(_("recipient"), max_length=200)
    recipient_kind = models.CharField(_("kind of recipient"), max_length=30, choices=RecipientKind.choices)
    recipient_contact = PersonalCharField(
        _("recipient's contact"), max_length=300, blank=True, help_text=_("Where to send notices of changes.")
    )
    data_description = PersonalTextField(
        _("data disclosed"), help_text=_("Name the kinds of data (e.g. name and address), not their values.")
    )
    legal_basis = PersonalCharField(
        _("legal basis"), max_length=200, help_text=_("For example: Act 621/1999 16(3) §, or the contract.")
    )
    purpose = PersonalCharField(_("purpose"), max_length=300, blank=True)
    disclosed_at = models.DateTimeField(_("disclosed"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-disclosed_at", "-id"]
        indexes = [models.Index(fields=["customer", "disclosed_at"], name="disclosure_customer")]

    def __str__(self) -> str:
        return f"{self.recipient} {self.disclosed_at:%Y-%m-%d}"


class NotificationTask(TimeStampedModel):
    """Telling one recipient of disclosed data about a rectification, erasure or restriction (GDPR 19)."""

    class Status(models.TextChoices):
        OPEN = "open", _("to do")
        DONE = "done", _("recipient notified")
        JUSTIFIED = "justified", _("not notified, with justification")

    class Justification(models.TextChoices):
        IMPOSSIBLE = "impossible", _("impossible")
        DISPROPORTIONATE = "disproportionate", _("would involve disproportionate effort")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "privacy.DataSubjectRequest", on_delete=models.PROTECT, related_name="notification_tasks"
    )
    recipient = PersonalCharField(_("recipient"), max_length=200)
    recipient_contact = PersonalCharField(_("recipient's contact"), max_length=300, blank=True)
    disclosures = models.ManyToManyField(Disclosure, related_name="notification_tasks", verbose_name=_("disclosures"))
    # What is passed on: the kind of the request (rectification, erasure, restriction).
    change = models.CharField(_("change to pass on"), max_length=30)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    justification = models.CharField(_("justification"), max_length=20, choices=Justification.choices, blank=True)
    note = PersonalTextField(_("note"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("notification task")
        verbose_name_plural = _("notification tasks")
        ordering = ["recipient", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "recipient"], name="notification_task_one_per_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.recipient}"

    def clean(self) -> None:
        if self.status == self.Status.JUSTIFIED and (not self.justification or not self.note.strip()):
            raise ValidationError({"note": ERROR_JUSTIFICATION_REQUIRED})


def _language_with_notice(notice: str, language: str) -> models.Q:
    # A notice is shown in one language; no language is recorded without the notice it was shown in.
    return models.Q(**{f"{notice}__isnull": True, language: ""}) | (
        models.Q(**{f"{notice}__isnull": False}) & ~models.Q(**{language: ""})
    )


def _notice_errors(errors: dict, record, notice_field: str, language_field: str, kind: str) -> None:
    """Collect what is wrong with the notice a record names: another register's, purpose's or kind's, or a
    language it has no text in."""
    notice_id = getattr(record, f"{notice_field}_id")
    language = getattr(record, language_field)
    if notice_id is None:
        if language:
            errors[language_field] = ERROR_NOTICE_LANGUAGE_WITHOUT_NOTICE
        return
    notice = getattr(record, notice_field)
    if (notice.register_id, notice.kind, notice.purpose) != (record.register_id, kind, record.purpose):
        errors[notice_field] = ERROR_NOTICE_OTHER_USE
    elif not language:
        errors[language_field] = ERROR_NOTICE_LANGUAGE_MISSING
    elif language not in notice.languages:
        errors[language_field] = ERROR_NOTICE_NOT_IN_LANGUAGE


class ConsentRecord(TimeStampedModel):
    """One consent, from when it was given until it is withdrawn; a new consent is a new row (history)."""

    class Purpose(models.TextChoices):
        DIRECT_MARKETING = "direct_marketing", _("direct marketing")
        DISTANCE_SELLING = "distance_selling", _("distance selling")
        RESEARCH = "research", _("market and opinion research")
        MAILING_LIST = "mailing_list", _("publication in mailing lists")
        NEWSLETTER = "newsletter", _("newsletter")

    class Channel(models.TextChoices):
        WEB = "web", _("web form")
        EMAIL = "email", _("e-mail")
        POST = "post", _("letter")
        IN_PERSON = "in_person", _("in person")
        PHONE = "phone", _("phone")
        LINK = "link", _("withdrawal link")
        REQUEST = "request", _("data-subject request")
        UNSUBSCRIBE = "unsubscribe", _("one-click link in a campaign message")
        MY_DATA = "my_data", _("the person's “my data” pages")
        IMPORT = "import", _("import from a file")

    # The channels staff record a consent or a withdrawal through: what the person said, wrote or signed.
    STAFF_CHANNELS = (Channel.PHONE, Channel.IN_PERSON, Channel.POST, Channel.EMAIL)

    # Uses that need consent, or at least no objection, before any marketing use (seed 003, 621/1999 16(3) §).
    MARKETING_PURPOSES = frozenset({Purpose.DIRECT_MARKETING, Purpose.DISTANCE_SELLING, Purpose.MAILING_LIST})

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consents", verbose_name=_("customer")
    )
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    given_at = models.DateTimeField(_("given"))
    given_channel = models.CharField(_("given through"), max_length=20, choices=Channel.choices)
    # The exact version of the text the person was shown, and the language it was shown in (GDPR 7(1)). Empty on
    # rows recorded before notices were versioned: their evidence is "not recorded", with at most the label staff
    # typed into `notice_version` then.
    notice = models.ForeignKey(
        "privacy.ConsentNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice shown"),
    )
    notice_language = models.CharField(
        _("language of the notice"), max_length=2, choices=NoticeLanguage.choices, blank=True
    )
    notice_version = PersonalCharField(_("privacy notice shown"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_channel = models.CharField(_("withdrawn through"), max_length=20, choices=Channel.choices, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawal recorded by"),
    )
    withdrawn_notice = models.ForeignKey(
        "privacy.ConsentNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice shown at the withdrawal"),
    )
    withdrawn_notice_language = models.CharField(
        _("language of the withdrawal notice"), max_length=2, choices=NoticeLanguage.choices, blank=True
    )
    withdrawn_request = models.ForeignKey(
        "privacy.DataSubjectRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_in_force_per_purpose",
                violation_error_message=_("This consent is already in force."),
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(withdrawn_at__gte=models.F("given_at")),
                name="consent_withdrawn_after_given",
                violation_error_message=ERROR_WITHDRAWN_BEFORE_GIVEN,
            ),
            models.CheckConstraint(
                condition=_language_with_notice("notice", "notice_language"),
                name="consent_notice_language",
                violation_error_message=ERROR_NOTICE_LANGUAGE_MISSING,
            ),
            models.CheckConstraint(
                condition=_language_with_notice("withdrawn_notice", "withdrawn_notice_language"),
                name="consent_withdrawn_notice_language",
                violation_error_message=ERROR_NOTICE_LANGUAGE_MISSING,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.given_at:%Y-%m-%d}"

    def clean(self) -> None:
        errors = {}
        _notice_errors(errors, self, "notice", "notice_language", ConsentNotice.Kind.CONSENT)
        _notice_errors(errors, self, "withdrawn_notice", "withdrawn_notice_language", ConsentNotice.Kind.WITHDRAWAL)
        if errors:
            raise ValidationError(errors)

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None

    @property
    def notice_text(self) -> str:
        return self.notice.text_in("text", self.notice_language)[0] if self.notice else ""

    @property
    def withdrawn_notice_text(self) -> str:
        if not self.withdrawn_notice:
            return ""
        return self.withdrawn_notice.text_in("text", self.withdrawn_notice_language)[0]


class ObjectionRecord(TimeStampedModel):
    """An objection (GDPR 21): to direct marketing (absolute, at once) or to other processing (weighed)."""

    class Purpose(models.TextChoices):
        DIRECT_MARKETING = "direct_marketing", _("direct marketing (art. 21(2)-(3))")
        PROCESSING = "processing", _("processing for a public task or legitimate interests (art. 21(1))")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="objections", verbose_name=_("customer")
    )
    # A contact person who objected for themself; `customer` is then their organisation.
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="objections",
        verbose_name=_("contact person"),
    )
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    given_at = models.DateTimeField(_("given"))
    channel = models.CharField(_("received through"), max_length=20, choices=ConsentRecord.Channel.choices)
    # How the objection reached us, for an auditor: e.g. the campaign and message whose one-click link was used,
    # the method (RFC 8058 POST from the mail client, or the page) and the address it was sent to.
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    request = models.ForeignKey(
        "privacy.DataSubjectRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="objections"
    )
    # The objection notice the person was shown (the "my data" pages), as for a consent; empty when none was shown
    # (the person's own request or letter, a mail client's one-click POST, an import) or before notices existed.
    notice = models.ForeignKey(
        "privacy.ConsentNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice shown"),
    )
    notice_language = models.CharField(
        _("language of the notice"), max_length=2, choices=NoticeLanguage.choices, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_channel = models.CharField(
        _("withdrawn through"), max_length=20, choices=ConsentRecord.Channel.choices, blank=True
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawal recorded by"),
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-given_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(withdrawn_at__gte=models.F("given_at")),
                name="objection_withdrawn_after_given",
                violation_error_message=ERROR_WITHDRAWN_BEFORE_GIVEN,
            ),
            models.CheckConstraint(
                condition=_language_with_notice("notice", "notice_language"),
                name="objection_notice_language",
                violation_error_message=ERROR_NOTICE_LANGUAGE_MISSING,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.given_at:%Y-%m-%d}"

    def clean(self) -> None:
        errors = {}
        _notice_errors(errors, self, "notice", "notice_language", ConsentNotice.Kind.OBJECTION)
        if errors:
            raise ValidationError(errors)

    @property
    def notice_text(self) -> str:
        return self.notice.text_in("text", self.notice_language)[0] if self.notice else ""


class ConsentNoticeQuerySet(AppendOnlyQuerySet):
    def in_force(self, at=None):
        """The versions in force at `at` (now by default) first: the newest start, then the newest row."""
        return self.filter(valid_from__lte=at or timezone.now()).order_by("-valid_from", "-id")


class ConsentNotice(RegisterAuditMixin, TranslatedTexts, AppendOnlyModel, TimeStampedModel):
    """One version of the text a person is shown before they consent, withdraw a consent or object (GDPR 7(1)).

    A version is never changed or deleted once saved (`AppendOnlyModel`): the records name the exact text the
    person saw, so a correction is a new version. The version in force for a register, kind and purpose at a
    moment is the one with the latest `valid_from` not after it.
    """

    class Kind(models.TextChoices):
        CONSENT = "consent", _("consent")
        WITHDRAWAL = "withdrawal", _("withdrawal of consent")
        OBJECTION = "objection", _("objection")

    # Consent and withdrawal notices speak of a consent's purpose, objection notices of an objection's.
    PURPOSES = {
        Kind.CONSENT: ConsentRecord.Purpose,
        Kind.WITHDRAWAL: ConsentRecord.Purpose,
        Kind.OBJECTION: ObjectionRecord.Purpose,
    }

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="consent_notices", verbose_name=_("register")
    )
    kind = models.CharField(_("kind of notice"), max_length=20, choices=Kind.choices)
    purpose = models.CharField(
        _("purpose"),
        max_length=30,
        choices=[
            *ConsentRecord.Purpose.choices,
            (ObjectionRecord.Purpose.PROCESSING, ObjectionRecord.Purpose.PROCESSING.label),
        ],
    )
    version = PersonalCharField(_("version"), max_length=40, help_text=_("For example: 2026-1."))
    valid_from = models.DateTimeField(_("in force from"), db_index=True)
    text_fi = PersonalTextField(_("text in Finnish"), blank=True)
    text_sv = PersonalTextField(_("text in Swedish"), blank=True)
    text_en = PersonalTextField(_("text in English"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by")
    )

    objects = ConsentNoticeQuerySet.as_manager()

    append_only_message = ERROR_NOTICE_APPEND_ONLY

    class Meta:
        verbose_name = _("consent or objection notice")
        verbose_name_plural = _("consent and objection notices")
        ordering = ["kind", "purpose", "-valid_from", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["register", "kind", "purpose", "version"],
                name="consent_notice_version_unique",
                violation_error_message=ERROR_NOTICE_VERSION_TAKEN,
            ),
            models.CheckConstraint(
                condition=~models.Q(text_fi="") | ~models.Q(text_sv="") | ~models.Q(text_en=""),
                name="consent_notice_has_text",
                violation_error_message=ERROR_NOTICE_TEXT_REQUIRED,
            ),
        ]
        indexes = [models.Index(fields=["register", "kind", "purpose", "valid_from"], name="consent_notice_in_force")]

    def __str__(self) -> str:
        return f"{self.purpose_label} {self.version}"

    def clean(self) -> None:
        purposes = self.PURPOSES.get(self.kind)
        if purposes is not None and self.purpose not in purposes.values:
            raise ValidationError({"purpose": ERROR_NOTICE_PURPOSE})

    @property
    def purpose_label(self) -> str:
        purposes = self.PURPOSES.get(self.kind, ConsentRecord.Purpose)
        return str(purposes(self.purpose).label) if self.purpose in purposes.values else self.purpose

    @property
    def languages(self) -> list[str]:
        """The languages the notice has a text in, in the order of fallback."""
        return [code for code in TEXT_LANGUAGES if getattr(self, f"text_{code}")]

    def texts(self) -> list[tuple[str, str, str]]:
        """(code, language name, text) of each language the notice is written in."""
        names = dict(NoticeLanguage.choices)
        return [(code, str(names[code]), getattr(self, f"text_{code}")) for code in self.languages]


class RectificationItem(TimeStampedModel):
    """One requested correction of one field of a confirmed record (GDPR 16)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("requested")
        APPLIED = "applied", _("corrected")
        REFUSED = "refused", _("not corrected")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "privacy.DataSubjectRequest", on_delete=models.PROTECT, related_name="rectification_items"
    )
    match = models.ForeignKey(
        "privacy.SubjectMatch", on_delete=models.CASCADE, related_name="rectification_items", verbose_name=_("record")
    )
    # Empty for an archived message: there is no field to change (DOMAIN 004).
    field = models.CharField(_("field"), max_length=50, blank=True)
    requested_value = PersonalTextField(_("requested value"), blank=True)
    previous_value = PersonalTextField(_("value before the correction"), blank=True)
    source_checked = PersonalCharField(
        _("checked against"),
        max_length=200,
        blank=True,
        help_text=_("For example: population information system, trade register."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED)
    ground = models.CharField(_("legal ground"), max_length=30, choices=RefusalGround.choices, blank=True)
    note = PersonalTextField(_("reason"), blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("requested correction")
        verbose_name_plural = _("requested corrections")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.request} {self.field}"


class ErasurePlan(TimeStampedModel):
    """The dry run of an erasure: what would be deleted, anonymised or kept, reviewed before it is executed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("waiting for review")
        SUPERSEDED = "superseded", _("replaced by a newer plan")
        EXECUTED = "executed", _("executed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey("privacy.DataSubjectRequest", on_delete=models.PROTECT, related_name="erasure_plans")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    computed_at = models.DateTimeField(_("computed"))
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # sha256 of the actions: execution recomputes the plan and refuses if the data changed meanwhile.
    fingerprint = models.CharField(max_length=64)
    executed_at = models.DateTimeField(_("executed"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("erasure plan")
        verbose_name_plural = _("erasure plans")
        ordering = ["-computed_at", "-id"]
        get_latest_by = ["computed_at", "id"]

    def __str__(self) -> str:
        return f"{self.request} {self.computed_at:%Y-%m-%d %H:%M}"


class ErasureAction(models.Model):
    """What the plan does with one object, and why it keeps what it keeps. Codes only, never values."""

    class ObjectType(models.TextChoices):
        CUSTOMER = "customer", _("customer record")
        CONTACT_PERSON = "contact_person", _("contact person")
        INVOICE = "invoice", _("invoice")
        INTERACTION = "interaction", _("contact or event")
        MESSAGE = "message", _("contact-centre message")

    class Action(models.TextChoices):
        DELETE = "delete", _("delete")
        ANONYMISE = "anonymise", _("anonymise")
        KEEP = "keep", _("keep")
        # The record stays with only what its ground needs (an open invoice: name and address); the rest goes.
        MINIMISE = "minimise", _("keep only what the ground needs")
        # Free text in someone else's record names the person: the handler decides to redact or keep it.
        MENTION = "mention", _("names the person")

    class Decision(models.TextChoices):
        REDACT = "redact", _("remove the mention")
        KEEP = "keep", _("keep the text as it is")

    class Ground(models.TextChoices):
        OPEN_INVOICE = "open_invoice", _("open invoice")
        DEBT_IN_COLLECTION = "debt_in_collection", _("debt in collection")
        LEGAL_HOLD = "legal_hold", _("legal hold: an open legal claim")
        OPEN_REQUEST = "open_request", _("another data-subject request about the data is still open")
        STATUTORY_RETENTION = "statutory_retention", _("statutory retention period has not ended")
        LINK_REMOVED = "link_removed", _("the link to the person is removed; the record belongs to someone else")

    # What a claim for payment needs of the debtor's record (seed 003): who owes, and where the claim is sent. A
    # customer kept only for an open invoice or a debt in collection keeps these fields and loses the rest.
    CLAIM_FIELDS = frozenset(
        {
            "first_name",
            "last_name",
            "organisation_name",
            "business_id",
            "street_address",
            "postal_code",
            "city",
            "country",
        }
    )

    # The legal provision each ground rests on, quoted in the letter.
    GROUND_PROVISIONS = {
        Ground.OPEN_INVOICE: RefusalGround.LEGAL_CLAIMS,
        Ground.DEBT_IN_COLLECTION: RefusalGround.LEGAL_CLAIMS,
        Ground.LEGAL_HOLD: RefusalGround.LEGAL_CLAIMS,
        Ground.OPEN_REQUEST: RefusalGround.LEGAL_OBLIGATION,
        Ground.STATUTORY_RETENTION: RefusalGround.LEGAL_OBLIGATION,
    }

    plan = models.ForeignKey(ErasurePlan, on_delete=models.CASCADE, related_name="actions")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    object_type = models.CharField(_("object"), max_length=20, choices=ObjectType.choices)
    object_code = models.UUIDField(_("object code"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    grounds = models.JSONField(_("grounds"), default=list, blank=True)
    # Rows that go with the object, per kind ({"interaction": 3}); counts only.
    cascade = models.JSONField(_("removed with it"), default=dict, blank=True)
    # Field names only: what a minimised record loses, or where a mention of the person was found.
    fields = models.JSONField(_("fields"), default=list, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decision_note = PersonalTextField(_("reason for the decision"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("erasure action")
        verbose_name_plural = _("erasure actions")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_code}"

    def clean(self) -> None:
        if self.action in {self.Action.KEEP, self.Action.MINIMISE} and not self.grounds:
            raise ValidationError({"grounds": _("A kept object needs the ground it is kept on.")})

    @property
    def ground_labels(self) -> list[str]:
        return [str(self.Ground(code).label) for code in self.grounds]

    @property
    def provisions(self) -> list[str]:
        return sorted({self.GROUND_PROVISIONS[code] for code in self.grounds if code in self.GROUND_PROVISIONS})


class Refusal(models.Model):
    """The decision not to do (all of) what was asked: the legal grounds and the reasons (GDPR 12(4))."""

    request = models.ForeignKey("privacy.DataSubjectRequest", on_delete=models.PROTECT, related_name="refusals")
    partial = models.BooleanField(_("partial refusal"), default=False)
    grounds = models.JSONField(_("legal grounds"), default=list)
    text = PersonalTextField(_("reasons"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"))

    class Meta:
        verbose_name = _("refusal")
        verbose_name_plural = _("refusals")
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.request} {', '.join(self.grounds)}"

    def clean(self) -> None:
        grounds_validate(self.grounds)
        if not (self.text or "").strip():
            raise ValidationError({"text": ERROR_REFUSAL_TEXT_REQUIRED}, code="text_required")

    @property
    def ground_labels(self) -> list[str]:
        return [str(RefusalGround(code).label) for code in self.grounds]


class DecisionLetter(models.Model):
    """The letter that answered a request (rectification, erasure, ..., refusal), kept exactly as sent."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey("privacy.DataSubjectRequest", on_delete=models.PROTECT, related_name="letters")
    language = models.CharField(_("language"), max_length=2)
    subject = models.CharField(_("subject"), max_length=300)
    html = models.TextField()
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("decision letter")
        verbose_name_plural = _("decision letters")
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request} {self.created_at:%Y-%m-%d}"


# --- Rights completion (issue 22, part 4): the weighing of an art. 21(1) objection and the lifting of a
# --- restriction after notice (art. 18(3)). Kept apart from the models above to ease merges.

__all__ += ["ObjectionWeighing", "RestrictionLift"]

ERROR_COMPELLING_GROUNDS_TEXT = _("Write down the compelling legitimate grounds that override the objection.")


class ObjectionWeighing(TimeStampedModel):
    """The weighing of an objection to processing for a public task or legitimate interests (GDPR 21(1)).

    The controller stops processing unless it demonstrates compelling legitimate grounds that override the
    person's interests, rights and freedoms: the handler records one outcome or the other, with who and when,
    before the request can be answered. Its states change only through `objection_weighing.weighing_transition`.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("weighing pending")
        COMPELLING_GROUNDS = "compelling_grounds", _("compelling legitimate grounds override the objection")
        PROCESSING_STOPPED = "processing_stopped", _("processing stopped")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "privacy.DataSubjectRequest",
        on_delete=models.PROTECT,
        related_name="objection_weighings",
        verbose_name=_("request"),
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING)
    opened_at = models.DateTimeField(_("opened"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    grounds_text = PersonalTextField(_("compelling legitimate grounds"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("weighing of an objection")
        verbose_name_plural = _("weighings of objections")
        ordering = ["-opened_at", "-id"]
        get_latest_by = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(state="pending"),
                name="objection_weighing_one_pending",
                violation_error_message=_("The objection is already being weighed."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} {self.state}"

    def clean(self) -> None:
        if self.state == self.State.COMPELLING_GROUNDS and not (self.grounds_text or "").strip():
            raise ValidationError({"grounds_text": ERROR_COMPELLING_GROUNDS_TEXT}, code="grounds_text_required")


class RestrictionLift(TimeStampedModel):
    """Lifting a restriction of processing that a request obtained, after the person has been told (GDPR 18(3)).

    Asked by a handler with a reason; the notice goes by e-mail through the request's outbox, or by post (the
    handler records the posting). The customers stay restricted until the notice has been sent and the waiting
    period (settings.RESTRICTION_LIFT_NOTICE_DAYS) has passed. States change only through
    `restriction_lift.lift_transition`.
    """

    class State(models.TextChoices):
        NOTICE_PENDING = "notice_pending", _("lift pending notice")
        WAITING = "waiting", _("notice sent, lift waiting")
        LIFTED = "lifted", _("restriction lifted")
        CANCELLED = "cancelled", _("lift cancelled")

    class NoticeChannel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        POST = "post", _("letter")

    # States in which the lift is still to come: the records stay restricted and the pages say so.
    PENDING_STATES = frozenset({State.NOTICE_PENDING, State.WAITING})

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "privacy.DataSubjectRequest",
        on_delete=models.PROTECT,
        related_name="restriction_lifts",
        verbose_name=_("request"),
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.NOTICE_PENDING)
    reason = PersonalTextField(_("reason for lifting"))
    asked_at = models.DateTimeField(_("asked"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    # The e-mail in the request's outbox; empty when the notice goes by post.
    notice = models.ForeignKey(
        "privacy.Correspondence",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice"),
    )
    notice_channel = models.CharField(_("notice sent by"), max_length=10, choices=NoticeChannel.choices, blank=True)
    notice_sent_at = models.DateTimeField(_("notice sent"), null=True, blank=True)
    lift_due_at = models.DateTimeField(_("to be lifted"), null=True, blank=True, db_index=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = PersonalTextField(_("reason for cancelling"), blank=True)

    class Meta:
        verbose_name = _("lifting of a restriction")
        verbose_name_plural = _("liftings of restrictions")
        ordering = ["-asked_at", "-id"]
        get_latest_by = ["asked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(state__in=["notice_pending", "waiting"]),
                name="restriction_lift_one_pending",
                violation_error_message=_("The lifting of this restriction has already been asked."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} {self.state}"

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING_STATES


# --- End of the rights-completion models.
