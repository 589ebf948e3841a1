import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .audit_scope import RegisterAuditMixin
from .fields import PersonalCharField, PersonalEmailField, PersonalTextField


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


# The languages a controller writes its texts in, and the order in which a missing text falls back.
TEXT_LANGUAGES = ("fi", "sv", "en")


def pick_language(texts: dict[str, str], language: str | None = None) -> tuple[str, str]:
    """Return (text, its language): the text in `language` (default: the active one), else in fi, sv, en."""
    wanted = (language or get_language() or "fi")[:2]
    for code in (wanted, *TEXT_LANGUAGES):
        if texts.get(code):
            return texts[code], code
    return "", wanted


def translated_text(base: str) -> property:
    """A property reading `<base>_fi/_sv/_en` in the active language, with fallback.

    Writing sets the Finnish text: that is what the single field held before the texts became
    trilingual, and callers written against it (factories, the demo loader) keep working.
    """

    def get(self) -> str:
        return self.text_in(base)[0]

    def set(self, value: str) -> None:
        setattr(self, f"{base}_fi", value)

    return property(get, set, doc=f"{base} in the active language (Finnish, Swedish, English when missing).")


class TranslatedTexts:
    """Model mixin: read a trilingual text and learn which language was shown."""

    def text_in(self, base: str, language: str | None = None) -> tuple[str, str]:
        return pick_language({code: getattr(self, f"{base}_{code}") for code in TEXT_LANGUAGES}, language)


class Organisation(TranslatedTexts, TimeStampedModel):
    """The controller (rekisterinpitäjä): a city board or a company."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name_fi = PersonalCharField(_("name in Finnish"), max_length=200, unique=True)
    name_sv = PersonalCharField(_("name in Swedish"), max_length=200, blank=True)
    name_en = PersonalCharField(_("name in English"), max_length=200, blank=True)
    public_authority = models.BooleanField(
        _("public authority or body"),
        default=True,
        help_text=_("A public authority must name a data protection officer (GDPR art. 37(1)(a))."),
    )
    address = PersonalTextField(_("address"), blank=True)
    phone = PersonalCharField(_("phone"), max_length=50, blank=True)
    registry_email = PersonalEmailField(_("registry office e-mail"), blank=True)

    name = translated_text("name")

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name_fi"]

    def __str__(self) -> str:
        return self.name


class LegalBasis(models.TextChoices):
    """GDPR art. 6(1) points."""

    CONSENT = "a", _("6(1)(a) consent")
    CONTRACT = "b", _("6(1)(b) performance of a contract")
    LEGAL_OBLIGATION = "c", _("6(1)(c) legal obligation")
    VITAL_INTERESTS = "d", _("6(1)(d) vital interests")
    PUBLIC_TASK = "e", _("6(1)(e) public interest or official authority")
    LEGITIMATE_INTERESTS = "f", _("6(1)(f) legitimate interests")


class CustomerField(models.TextChoices):
    """Optional customer fields; each register states which of them it collects."""

    DATE_OF_BIRTH = "date_of_birth", _("date of birth")
    BUSINESS_ID = "business_id", _("business ID")
    ADDRESS = "address", _("address")
    OCCUPATION = "occupation", _("occupation")
    EDUCATION = "education", _("education")
    LANDLINE = "landline", _("landline phone")
    MOBILE = "mobile", _("mobile phone")
    FAX = "fax", _("fax")
    EMAIL = "email", _("e-mail")
    LANGUAGE = "language", _("language")
    EXTRA_INFO = "extra_info", _("extra information given by the customer")


_LANGUAGE_NAMES = {"fi": _("Finnish"), "sv": _("Swedish"), "en": _("English")}
_OPENNESS_ACT = _("disclosures under the Act on the Openness of Government Activities (621/1999)")


def _text(label, language: str, **kwargs) -> PersonalTextField:
    """One language of a text the register description publishes; every language may be empty on its own."""
    return PersonalTextField(format_lazy("{} ({})", label, _LANGUAGE_NAMES[language]), blank=True, **kwargs)


# Texts of the register description, each kept in Finnish, Swedish and English (`<name>_fi` ...).
DESCRIPTION_TEXTS = (
    "owner",
    "handlers",
    "contact_person",
    "dpo_contact",
    "processors",
    "purposes",
    "national_basis",
    "automated_decision_details",
    "data_categories",
    "regular_sources",
    "recipients",
    "openness_act_disclosures",
    "transfers_outside_eea",
    "retention_text",
    "protection_principles",
)
# Texts a register cannot be saved without, in at least one language.
REQUIRED_TEXTS = {
    "owner": _("Name the register owner in at least one language."),
    "purposes": _("State the purposes of processing in at least one language."),
    "data_categories": _("State the categories of personal data in at least one language."),
}


class Register(RegisterAuditMixin, TranslatedTexts, TimeStampedModel):
    """A personal-data register and everything its public description states."""

    # How the audit screens name the codes in the JSON lists (registers.audit).
    AUDIT_JSON_CHOICES = {"legal_bases": (LegalBasis, None), "collected_fields": (CustomerField, None)}

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("customer register")
        CONTACT_CENTRE = "contact_centre", _("contact-centre archive")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("address name"), max_length=80, unique=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="registers", verbose_name=_("controller")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("part of register"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CUSTOMER)
    name_fi = PersonalCharField(_("name in Finnish"), max_length=200)
    name_sv = PersonalCharField(_("name in Swedish"), max_length=200)
    name_en = PersonalCharField(_("name in English"), max_length=200)
    owner_fi = _text(_("register owner"), "fi", help_text=_("Name, title and contact details."))
    owner_sv = _text(_("register owner"), "sv", help_text=_("Name, title and contact details."))
    owner_en = _text(_("register owner"), "en", help_text=_("Name, title and contact details."))
    owner = translated_text("owner")
    handlers_fi = _text(_("register handlers"), "fi")
    handlers_sv = _text(_("register handlers"), "sv")
    handlers_en = _text(_("register handlers"), "en")
    handlers = translated_text("handlers")
    contact_person_fi = _text(_("contact person in register matters"), "fi")
    contact_person_sv = _text(_("contact person in register matters"), "sv")
    contact_person_en = _text(_("contact person in register matters"), "en")
    contact_person = translated_text("contact_person")
    dpo_contact_fi = _text(_("data protection officer"), "fi", help_text=_("Name or title and contact details."))
    dpo_contact_sv = _text(_("data protection officer"), "sv", help_text=_("Name or title and contact details."))
    dpo_contact_en = _text(_("data protection officer"), "en", help_text=_("Name or title and contact details."))
    dpo_contact = translated_text("dpo_contact")
    processors_fi = _text(_("processors and outsourced services"), "fi")
    processors_sv = _text(_("processors and outsourced services"), "sv")
    processors_en = _text(_("processors and outsourced services"), "en")
    processors = translated_text("processors")
    purposes_fi = _text(_("purposes of processing"), "fi")
    purposes_sv = _text(_("purposes of processing"), "sv")
    purposes_en = _text(_("purposes of processing"), "en")
    purposes = translated_text("purposes")
    legal_bases = models.JSONField(_("legal bases (GDPR art. 6(1))"), default=list)
    national_basis_fi = _text(_("national legal basis"), "fi")
    national_basis_sv = _text(_("national legal basis"), "sv")
    national_basis_en = _text(_("national legal basis"), "en")
    national_basis = translated_text("national_basis")
    automated_decision_making = models.BooleanField(_("automated decision-making or profiling"), default=False)
    automated_decision_details_fi = _text(_("automated decision-making details"), "fi")
    automated_decision_details_sv = _text(_("automated decision-making details"), "sv")
    automated_decision_details_en = _text(_("automated decision-making details"), "en")
    automated_decision_details = translated_text("automated_decision_details")
    data_categories_fi = _text(_("data categories"), "fi")
    data_categories_sv = _text(_("data categories"), "sv")
    data_categories_en = _text(_("data categories"), "en")
    data_categories = translated_text("data_categories")
    collected_fields = models.JSONField(_("optional customer fields collected"), default=list, blank=True)
    regular_sources_fi = _text(_("regular sources of data"), "fi")
    regular_sources_sv = _text(_("regular sources of data"), "sv")
    regular_sources_en = _text(_("regular sources of data"), "en")
    regular_sources = translated_text("regular_sources")
    recipients_fi = _text(_("regular disclosures and recipients"), "fi")
    recipients_sv = _text(_("regular disclosures and recipients"), "sv")
    recipients_en = _text(_("regular disclosures and recipients"), "en")
    recipients = translated_text("recipients")
    openness_act_disclosures_fi = _text(_OPENNESS_ACT, "fi")
    openness_act_disclosures_sv = _text(_OPENNESS_ACT, "sv")
    openness_act_disclosures_en = _text(_OPENNESS_ACT, "en")
    openness_act_disclosures = translated_text("openness_act_disclosures")
    transfers_outside_eea_fi = _text(_("transfers outside the EU/EEA"), "fi")
    transfers_outside_eea_sv = _text(_("transfers outside the EU/EEA"), "sv")
    transfers_outside_eea_en = _text(_("transfers outside the EU/EEA"), "en")
    transfers_outside_eea = translated_text("transfers_outside_eea")

    class CompanyUpdates(models.TextChoices):
        PROPOSE = "propose", _("proposed to staff, who apply or dismiss them")
        APPLY = "apply", _("applied at once")

    # What the nightly refresh from the company register does with a changed name or address (issue 15).
    company_updates = models.CharField(
        _("name and address changes from the company register"),
        max_length=10,
        choices=CompanyUpdates.choices,
        default=CompanyUpdates.PROPOSE,
    )
    # Whether the description names direct marketing to the register's own customers as a purpose (seed 000:
    # "rikta marknadsföringskommunikation … till kunder"); a register that forbids it offers no campaigns.
    direct_marketing = models.BooleanField(
        _("direct marketing to the customers"),
        default=False,
        help_text=_("Only when the register description names direct marketing as a purpose of processing."),
    )
    # Whether the description allows personal data to be disclosed for direct marketing, opinion or market research
    # or address use (Act 621/1999 16(3) §: only where an act provides so or the people consented). The seeds
    # forbid it ("utan den registrerades tillstånd"); a document request for such use is refused by this.
    marketing_disclosures = models.BooleanField(
        _("disclosure for direct marketing, research or address use"),
        default=False,
        help_text=_("Only when an act provides for it or the people have consented (Act 621/1999 16(3) §)."),
    )
    retention_months = models.PositiveIntegerField(
        _("retention after inactivity (months)"),
        null=True,
        blank=True,
        help_text=_("Empty: kept until erasure is requested."),
    )
    retention_text_fi = _text(_("retention periods or criteria"), "fi")
    retention_text_sv = _text(_("retention periods or criteria"), "sv")
    retention_text_en = _text(_("retention periods or criteria"), "en")
    retention_text = translated_text("retention_text")
    protection_principles_fi = _text(_("protection principles"), "fi")
    protection_principles_sv = _text(_("protection principles"), "sv")
    protection_principles_en = _text(_("protection principles"), "en")
    protection_principles = translated_text("protection_principles")
    access_answer_days = models.PositiveSmallIntegerField(_("days to answer an access request"), default=7)
    # How long the register's own audit trail (its change and access entries) is kept; the purge removes older
    # entries and the tamper-evident chain records each removal (registers.audit_chain).
    audit_retention_months = models.PositiveSmallIntegerField(
        _("audit trail kept (months)"),
        default=24,
        help_text=_("Change and access entries older than this are removed by the daily purge."),
    )
    description_created_on = models.DateField(_("description created"), null=True, blank=True)
    description_updated_on = models.DateField(_("description updated"), null=True, blank=True)

    class Meta:
        verbose_name = _("register")
        verbose_name_plural = _("registers")
        ordering = ["name_fi"]
        permissions = [
            ("view_register_data", _("Can view the personal data of the register")),
            ("change_register_data", _("Can add and change the personal data of the register")),
            ("manage_register_access", _("Can grant and end access to the register")),
            ("review_register_access", _("Can review access and read the audit trail of the register")),
            ("handle_register_requests", _("Can handle data-subject requests of the register")),
            ("approve_register_requests", _("Can approve data-subject request answers of the register")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(access_answer_days__gte=1) & models.Q(access_answer_days__lte=30),
                name="register_access_answer_days_within_legal_month",
                violation_error_message=_("An access request must be answered within 1 to 30 days."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("crm:customer-list", kwargs={"register": self.slug})

    @property
    def name(self) -> str:
        language = (get_language() or "fi")[:2]
        return getattr(self, f"name_{language}", None) or self.name_fi

    def collects(self, field: str) -> bool:
        return field in self.collected_fields

    def clean(self) -> None:
        errors = {}
        for base, message in REQUIRED_TEXTS.items():
            if not self.text_in(base)[0].strip():
                errors[f"{base}_fi"] = message
        valid_bases = set(LegalBasis.values)
        if not self.legal_bases or not set(self.legal_bases) <= valid_bases:
            errors["legal_bases"] = _("Choose at least one legal basis from GDPR art. 6(1) points a-f.")
        if not set(self.collected_fields or []) <= set(CustomerField.values):
            errors["collected_fields"] = _("Unknown customer field.")
        if self.parent_id and self.parent_id == self.pk:
            errors["parent"] = _("A register cannot be a part of itself.")
        if self.parent and self.parent.parent_id:
            errors["parent"] = _("A part of a register cannot have parts of its own.")
        if errors:
            raise ValidationError(errors)


class UserProfile(models.Model):
    """Preferences that follow a user from browser to browser."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    followup_digest = models.BooleanField(
        _("daily e-mail of my follow-ups"),
        default=True,
        help_text=_("Each morning, an e-mail listing the follow-ups due today and overdue, when there are any."),
    )

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return str(self.user)


class RegisterUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK guardian permission so rows cascade with their register."""

    content_object = models.ForeignKey(Register, on_delete=models.CASCADE)


class RegisterGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Register, on_delete=models.CASCADE)


class Role(models.TextChoices):
    OWNER = "owner", _("register owner")
    HANDLER = "handler", _("register handler")
    STAFF = "staff", _("staff user")
    CONTACT_CENTRE_EXPERT = "contact_centre_expert", _("contact-centre expert")
    CLIENT_MANAGER = "client_manager", _("ordering client's manager")
    # The scopes of an integration API client (api.models.APIClient), held by the client's own machine user:
    # never granted to a person, and shown in the yearly access review beside the people.
    API_READ = "api_read", _("integration: read")
    API_WRITE = "api_write", _("integration: read and write")
    # For the systems that work the register's requests beside its keepers (a city's case management).
    API_KEEPER = "api_keeper", _("integration: read and write, and the register's requests, imports and duplicates")


class RoleGroup(models.Model):
    """The auth group that carries one role's object permissions on one register."""

    register = models.ForeignKey(Register, on_delete=models.CASCADE, related_name="role_groups")
    role = models.CharField(max_length=30, choices=Role.choices)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="register_role")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["register", "role"], name="role_group_unique_per_register")]

    def __str__(self) -> str:
        return f"{self.register.slug}:{self.role}"


class MembershipQuerySet(models.QuerySet):
    def active(self, on=None):
        today = on or timezone.localdate()
        return self.filter(ended_at__isnull=True, starts_on__lte=today).filter(
            models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=today)
        )

    def expired(self, on=None):
        today = on or timezone.localdate()
        return self.filter(ended_at__isnull=True, ends_on__lt=today)


class Membership(RegisterAuditMixin, TimeStampedModel):
    """A user's role in a register: who granted it, when, and until when."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("register")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    grant_reason = PersonalCharField(_("reason for granting"), max_length=300, blank=True)
    starts_on = models.DateField(_("starts"), default=timezone.localdate)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    end_reason = PersonalCharField(_("reason for ending"), max_length=300, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["register", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "register", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_one_open_role_per_register",
                violation_error_message=_("The user already holds this role in this register."),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="membership_ends_after_start",
                violation_error_message=_("The end date must not be before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} - {self.register}"


class RegisterDescriptionVersion(models.Model):
    """A published register description (privacy notice), kept so the notice in force on any date can be shown."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="description_versions", verbose_name=_("register")
    )
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("published content"))
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    change_note = PersonalCharField(_("what changed"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published"), default=timezone.now, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("register description version")
        verbose_name_plural = _("register description versions")
        ordering = ["register", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["register", "number"], name="description_version_unique_number"),
        ]
        indexes = [models.Index(fields=["register", "-published_at"], name="description_version_in_force")]

    def __str__(self) -> str:
        return f"{self.register} v{self.number}"


class ConfidentialityCommitmentQuerySet(models.QuerySet):
    def current(self):
        """Keep only the newest version of each organisation's commitment."""
        newest = (
            ConfidentialityCommitment.objects.filter(organisation=models.OuterRef("organisation"))
            .order_by("-version")
            .values("pk")[:1]
        )
        return self.filter(pk=models.Subquery(newest))


class ConfidentialityCommitment(TimeStampedModel):
    """One version of an organisation's confidentiality commitment (salassapitositoumus)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="commitments", verbose_name=_("organisation")
    )
    version = models.PositiveIntegerField(_("version"))
    text_fi = PersonalTextField(_("text in Finnish"))
    text_sv = PersonalTextField(_("text in Swedish"))
    text_en = PersonalTextField(_("text in English"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    objects = ConfidentialityCommitmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("confidentiality commitment")
        verbose_name_plural = _("confidentiality commitments")
        ordering = ["organisation", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"],
                name="commitment_version_unique_per_organisation",
                violation_error_message=_("This version of the commitment already exists."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} v{self.version}"

    @property
    def text(self) -> str:
        language = (get_language() or "fi")[:2]
        return getattr(self, f"text_{language}", None) or self.text_fi


class CommitmentAcceptance(models.Model):
    """A user's acceptance of one commitment version: the evidence shown in access reviews."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="commitment_acceptances")
    commitment = models.ForeignKey(ConfidentialityCommitment, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        verbose_name = _("commitment acceptance")
        verbose_name_plural = _("commitment acceptances")
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "commitment"], name="commitment_accepted_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.commitment}"


class AccessReviewQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=AccessReview.Status.OPEN)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class AccessReview(RegisterAuditMixin, TimeStampedModel):
    """A campaign in which the register owner confirms or revokes every user's access."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        COMPLETED = "completed", _("completed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="access_reviews", verbose_name=_("register")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
        help_text=_("Empty when opened by the yearly schedule."),
    )
    due_at = models.DateTimeField(_("due"), db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    last_reminded_at = models.DateTimeField(_("last reminder sent"), null=True, blank=True)

    objects = AccessReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("access review")
        verbose_name_plural = _("access reviews")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["register"],
                condition=models.Q(status="open"),
                name="access_review_one_open_per_register",
                violation_error_message=_("This register already has an open access review."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.register} {self.opened_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("registers:review-detail", kwargs={"register": self.register.slug, "code": self.code})

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


class AccessReviewItem(RegisterAuditMixin, models.Model):
    """One user's access in a review, with the facts the owner decided on."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("not decided")
        KEEP = "keep", _("keep")
        REVOKE = "revoke", _("revoke")

    # How the audit screens name the codes in the JSON lists (registers.audit).
    AUDIT_JSON_CHOICES = {"roles": (Role, "role")}

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    review = models.ForeignKey(
        AccessReview, on_delete=models.CASCADE, related_name="items", verbose_name=_("access review")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    # Snapshots taken when the campaign opens and again at the decision, so
    # the completed review stays valid evidence after memberships change.
    roles = models.JSONField(_("roles"), default=list)
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True)
    last_access_at = models.DateTimeField(_("last access to the register"), null=True, blank=True)
    commitment_accepted_at = models.DateTimeField(_("commitment accepted"), null=True, blank=True)
    commitment_version = models.PositiveIntegerField(_("commitment version"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING)
    reason = PersonalCharField(_("reason"), max_length=300, blank=True)
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
        verbose_name = _("access review item")
        verbose_name_plural = _("access review items")
        ordering = ["review", "user__last_name", "user__first_name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="access_review_item_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.review} - {self.user}"


class AccessReviewStatusChange(models.Model):
    """One move of a review or of one of its items: who, when, from what to what, and why."""

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="status_changes")
    item = models.ForeignKey(
        AccessReviewItem, on_delete=models.CASCADE, null=True, blank=True, related_name="status_changes"
    )
    old = models.CharField(max_length=20)
    new = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = PersonalCharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.old} -> {self.new}"


# Recovery codes and authenticators live in their own modules; importing them here registers the models.
from .recovery_codes import RecoveryCode, RecoveryCodeDevice  # noqa: E402, F401
from .totp import TOTPDevice  # noqa: E402, F401


class AuditChainHead(models.Model):
    """The newest link of one chain: its number and hash, and the row locked while a link is added."""

    stream = models.CharField(max_length=100, primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq}"


class AuditChainLink(models.Model):
    """One write of one audit row: the digest of the row as written, chained to the previous link by a keyed hash.

    Holds no personal data: a row's id and digests only (registers.audit_chain, docs/audit-chain.md).
    """

    class Reason(models.TextChoices):
        WRITE = "write", _("written")
        CHANGE = "change", _("changed by the application")
        DELETE = "delete", _("removed by the application")
        ADOPT = "adopt", _("taken into the chain when it started")

    stream = models.CharField(max_length=100)
    seq = models.BigIntegerField()
    object_id = models.BigIntegerField()
    reason = models.CharField(max_length=10, choices=Reason.choices)
    # SHA-256 of the row's canonical form; empty for a removal.
    digest = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain link")
        verbose_name_plural = _("audit chain links")
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="audit_chain_link_unique_seq")]
        indexes = [models.Index(fields=["stream", "object_id", "seq"], name="audit_chain_link_object")]

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq}"
