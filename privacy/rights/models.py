"""The other rights of the data subject (GDPR arts. 16-21): what was changed, erased, kept, refused and told.

- `Disclosure`: the ledger of data handed outside the register (recipient, data, legal basis, time, actor); the
  source of the recipients in an access answer (art. 15(1)(c)) and of the art. 19 notification tasks.
- `NotificationTask`: one per recipient per request whose rectification, erasure or restriction must be passed on.
- `ConsentRecord` / `ObjectionRecord`: the history of consents and objections per customer, register and purpose.
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
from registers.fields import PersonalCharField, PersonalTextField
from registers.models import Register, TimeStampedModel

__all__ = [
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
    notice_version = PersonalCharField(_("privacy notice shown"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_channel = models.CharField(_("withdrawn through"), max_length=20, choices=Channel.choices, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.given_at:%Y-%m-%d}"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


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
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-given_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.given_at:%Y-%m-%d}"


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
