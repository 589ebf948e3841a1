import datetime
import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.facts import CompanyStatus
from registers.audit_scope import RegisterAuditMixin
from registers.fields import (
    PersonalCharField,
    PersonalEmailField,
    PersonalPhoneNumberField,
    PersonalTextField,
    write_errors,
)
from registers.models import CustomerField, Register, TimeStampedModel

from .similarity import match_name
from .validators import normalise_business_id, validate_business_id, validate_not_in_future

ERROR_NOT_COLLECTED = _("This register does not collect this information.")
ERROR_ORGANISATION_ONLY = _("Only an organisation customer has this information.")
ERROR_PERSON_ONLY = _("Only a person customer has this information.")
ERROR_IMMUTABLE = _("Contact-centre archive items are kept exactly as stored and cannot be changed.")
ERROR_WRONG_REGISTER_KIND = _("This register does not hold this kind of record.")
ERROR_INTERACTION_IN_FUTURE = _(
    "A call, an e-mail or a meeting is recorded once it has taken place: its time cannot be in the future."
)


class PersonalDataQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # Bulk paths skip save(), so the derived values are set here too.
        objs = list(objs)
        for obj in objs:
            obj.prepare_for_save()
        return super().bulk_create(objs, *args, **kwargs)


class PersonalDataModel(TimeStampedModel):
    """A row that holds personal data: public UUID, and text fields from registers.fields (no identity codes)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    objects = PersonalDataQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.prepare_for_save()
        super().save(*args, **kwargs)

    def normalise(self) -> None:
        """Derive stored forms of values; runs on every save path, bulk ones included."""

    def prepare_for_save(self) -> None:
        self.normalise()
        # The fields refuse identity codes on every write path (registers.fields); checking before the
        # write keeps a refused save from spoiling the surrounding transaction.
        errors = write_errors(self)
        if errors:
            raise ValidationError(errors)


class CustomerQuerySet(PersonalDataQuerySet):
    def inactive_since(self, moment):
        return self.filter(last_activity_at__lt=moment)

    def reachable_for_marketing(self):
        """Customers who have neither objected to marketing nor had processing restricted."""
        return self.filter(marketing_objection=False, processing_restricted=False)


class Customer(RegisterAuditMixin, PersonalDataModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        ORGANISATION = "organisation", _("organisation")

    class Language(models.TextChoices):
        FINNISH = "fi", _("Finnish")
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")
        OTHER = "other", _("other")

    class Source(models.TextChoices):
        DATA_SUBJECT = "data_subject", _("the data subject")
        ADDRESS_SERVICE = "address_service", _("public address services")
        TRADE_REGISTER = "trade_register", _("trade register (PRH/YTJ)")
        ORGANISATION = "organisation", _("the organisation itself")
        STAFF = "staff", _("entered by staff")
        IMPORTED = "imported", _("imported from a file")

    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="customers", verbose_name=_("register")
    )
    kind = models.CharField(_("customer type"), max_length=20, choices=Kind.choices, default=Kind.ORGANISATION)
    first_name = PersonalCharField(_("first name"), max_length=100, blank=True)
    last_name = PersonalCharField(_("last name"), max_length=100, blank=True)
    organisation_name = PersonalCharField(_("organisation name"), max_length=200, blank=True)
    sort_name = PersonalCharField(max_length=300, editable=False, db_index=True)
    # The name as duplicate detection compares it (crm.similarity.match_name): no case, accents,
    # punctuation, company-form words or Finnish/Swedish spelling variants.
    match_name = PersonalCharField(max_length=300, editable=False, blank=True, default="")
    business_id = PersonalCharField(_("business ID"), max_length=9, blank=True, validators=[validate_business_id])
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True, validators=[validate_not_in_future])
    street_address = PersonalCharField(_("street address"), max_length=200, blank=True)
    postal_code = PersonalCharField(_("postal code"), max_length=20, blank=True)
    city = PersonalCharField(_("city"), max_length=100, blank=True)
    country = PersonalCharField(_("country"), max_length=100, blank=True)
    occupation = PersonalCharField(_("occupation"), max_length=200, blank=True)
    education = PersonalCharField(_("education"), max_length=200, blank=True)
    landline = PersonalPhoneNumberField(_("landline phone"), blank=True)
    mobile = PersonalPhoneNumberField(_("mobile phone"), blank=True)
    fax = PersonalPhoneNumberField(_("fax"), blank=True)
    email = PersonalEmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, blank=True)
    extra_info = PersonalTextField(_("extra information"), blank=True)
    marketing_objection = models.BooleanField(_("objects to direct marketing"), default=False)
    marketing_objection_at = models.DateTimeField(_("marketing objection given"), null=True, blank=True)
    processing_restricted = models.BooleanField(_("processing restricted"), default=False)
    processing_restricted_at = models.DateTimeField(_("processing restricted since"), null=True, blank=True)
    # Set when a campaign message to the address came back as undeliverable (campaigns.bounces); a new address
    # clears it.
    email_bounced_at = models.DateTimeField(_("e-mail address bounced"), null=True, blank=True)
    # The person's id in the city's customer profile (Helsinki-profiili), set when the person is linked to this
    # record: the profile's GDPR API calls (api.gdpr) find all of a person's records by it, in every register.
    profile_id = models.UUIDField(_("customer profile id"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    source = models.CharField(_("source of the data"), max_length=30, choices=Source.choices, default=Source.STAFF)
    # An organisation's facts as the company register (PRH open data) gave them when a user confirmed them:
    # the status is flagged on the list, the rest (company form, line of business, website, other names)
    # shown on the customer's page. Public register data about the organisation, not collected fields.
    company_status = models.CharField(
        _("status in the company register"), max_length=20, choices=CompanyStatus.choices, blank=True
    )
    company_facts = models.JSONField(_("company register details"), default=dict, blank=True, editable=False)
    company_data_fetched_at = models.DateTimeField(_("company register details fetched"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CustomerQuerySet.as_manager()

    # The data about the person, in display order: what an access answer shows, a
    # rectification may change and a portability export hands over (no flags or bookkeeping).
    DATA_FIELDS = (
        "first_name",
        "last_name",
        "organisation_name",
        "business_id",
        "date_of_birth",
        "street_address",
        "postal_code",
        "city",
        "country",
        "occupation",
        "education",
        "landline",
        "mobile",
        "fax",
        "email",
        "language",
        "extra_info",
    )

    # Fields governed by Register.collected_fields; the address is one item.
    OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
        CustomerField.DATE_OF_BIRTH: ("date_of_birth",),
        CustomerField.BUSINESS_ID: ("business_id",),
        CustomerField.ADDRESS: ("street_address", "postal_code", "city", "country"),
        CustomerField.OCCUPATION: ("occupation",),
        CustomerField.EDUCATION: ("education",),
        CustomerField.LANDLINE: ("landline",),
        CustomerField.MOBILE: ("mobile",),
        CustomerField.FAX: ("fax",),
        CustomerField.EMAIL: ("email",),
        CustomerField.LANGUAGE: ("language",),
        CustomerField.EXTRA_INFO: ("extra_info",),
    }

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["sort_name", "id"]
        indexes = [
            models.Index(fields=["register", "sort_name", "id"], name="customer_register_name"),
            models.Index(fields=["register", "last_activity_at"], name="customer_register_activity"),
            # The integration API's synchronisation (modified_since) walks a register's changes in this order.
            models.Index(fields=["register", "updated_at", "id"], name="customer_register_updated"),
            models.Index(fields=["profile_id"], name="customer_profile_id"),
            # Trigram indexes serve substring search (LIKE '%term%') on PostgreSQL;
            # each matches an expression of crm.selectors._search_q. Created on
            # PostgreSQL only (crm/migrations/0003_customer_search_indexes).
            GinIndex(OpClass("sort_name", name="gin_trgm_ops"), name="customer_name_trgm"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="customer_email_trgm"),
            GinIndex(OpClass("business_id", name="gin_trgm_ops"), name="customer_business_id_trgm"),
            GinIndex(OpClass("mobile", name="gin_trgm_ops"), name="customer_mobile_trgm"),
            GinIndex(OpClass("landline", name="gin_trgm_ops"), name="customer_landline_trgm"),
            # A data-subject request's search matches an e-mail address or a phone number exactly
            # (privacy.requests.selectors.subject_candidates): b-trees answer equality directly (crm/migrations/0008).
            models.Index(Upper("email"), name="customer_email_upper"),
            models.Index(fields=["mobile"], name="customer_mobile"),
            models.Index(fields=["landline"], name="customer_landline"),
            # Similar names for duplicate detection and the new-customer form's warning
            # (duplicates.detection, crm.similarity); PostgreSQL only (crm/migrations/0015).
            GinIndex(OpClass("match_name", name="gin_trgm_ops"), name="customer_match_name_trgm"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["register", "business_id"],
                condition=~models.Q(business_id=""),
                name="customer_business_id_unique_per_register",
                violation_error_message=_("A customer with this business ID already exists in this register."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind="organisation", date_of_birth__isnull=True)
                | models.Q(kind="person", business_id="", organisation_name=""),
                name="customer_kind_fields",
                violation_error_message=_("The fields do not match the customer type."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def normalise(self) -> None:
        self.business_id = normalise_business_id(self.business_id)
        self.sort_name = self.display_name.casefold()
        self.match_name = match_name(self.kind, self.organisation_name, self.first_name, self.last_name)

    def get_absolute_url(self) -> str:
        return reverse("crm:customer-detail", kwargs={"register": self.register.slug, "code": self.code})

    @property
    def display_name(self) -> str:
        return self.name_from(self.kind, self.organisation_name, self.first_name, self.last_name)

    @staticmethod
    def name_from(kind: str, organisation_name: str, first_name: str, last_name: str) -> str:
        """Return the name a customer is shown and sorted by, from its fields (also for rows read as value tuples)."""
        if kind == Customer.Kind.ORGANISATION:
            return organisation_name
        return f"{first_name} {last_name}".strip()

    @property
    def is_organisation(self) -> bool:
        return self.kind == self.Kind.ORGANISATION

    @classmethod
    def fields_collected_by(cls, register: Register) -> list[str]:
        names: list[str] = []
        for item, fields in cls.OPTIONAL_FIELDS.items():
            if register.collects(item):
                names.extend(fields)
        return names

    def clean(self) -> None:
        self.business_id = normalise_business_id(self.business_id)
        errors: dict[str, object] = {}
        if self.register_id is not None:
            if self.register.kind != Register.Kind.CUSTOMER:
                errors["register"] = ERROR_WRONG_REGISTER_KIND
            collected = set(self.fields_collected_by(self.register))
            for fields in self.OPTIONAL_FIELDS.values():
                for name in fields:
                    if name not in collected and getattr(self, name) not in (None, ""):
                        errors[name] = ERROR_NOT_COLLECTED
        if self.kind == self.Kind.PERSON:
            for name in ("organisation_name", "business_id"):
                if getattr(self, name):
                    errors[name] = ERROR_ORGANISATION_ONLY
            if not self.last_name:
                errors["last_name"] = _("Enter the last name of the person.")
        else:
            if self.date_of_birth:
                errors["date_of_birth"] = ERROR_PERSON_ONLY
            if not self.organisation_name:
                errors["organisation_name"] = _("Enter the name of the organisation.")
        if errors:
            raise ValidationError(errors)


class CustomerAlias(models.Model):
    """The code of a customer merged into another: its links (bookmarks, e-mails, tickets) lead to the survivor.

    Written and removed by the merge and its undo (duplicates.services); cascades with the survivor, so an
    erased customer leaves no way back to it.
    """

    code = models.UUIDField(unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("customer"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("code of a merged customer")
        verbose_name_plural = _("codes of merged customers")

    def __str__(self) -> str:
        return str(self.code)


class CompanyChange(RegisterAuditMixin, TimeStampedModel):
    """A name or address of an organisation that the company register's nightly refresh found changed."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPLIED = "applied", _("applied")
        DISMISSED = "dismissed", _("dismissed")

    # The customer fields the company register speaks for: the name and the visiting address.
    class Field(models.TextChoices):
        ORGANISATION_NAME = "organisation_name", _("organisation name")
        STREET_ADDRESS = "street_address", _("street address")
        POSTAL_CODE = "postal_code", _("postal code")
        CITY = "city", _("city")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="company_changes", verbose_name=_("organisation")
    )
    field = models.CharField(_("field"), max_length=30, choices=Field.choices)
    old_value = PersonalCharField(_("value before"), max_length=300, blank=True)
    new_value = PersonalCharField(_("value in the company register"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("change in the company register")
        verbose_name_plural = _("changes in the company register")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "state"], name="company_change_customer_state")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.field}"


class ContactPerson(RegisterAuditMixin, PersonalDataModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contact_persons", verbose_name=_("organisation")
    )
    first_name = PersonalCharField(_("first name"), max_length=100, blank=True)
    last_name = PersonalCharField(_("last name"), max_length=100)
    title = PersonalCharField(_("title"), max_length=200, blank=True)
    responsibility = PersonalCharField(_("area of responsibility"), max_length=200, blank=True)
    email = PersonalEmailField(_("work e-mail"), blank=True)
    phone = PersonalPhoneNumberField(_("work phone"), blank=True)
    interests = PersonalTextField(_("interests and activities"), blank=True)
    # A contact person objects to direct marketing for themself: campaigns to an organisation's contact persons
    # leave them out (GDPR 21(3)), whatever the organisation's own flag says.
    marketing_objection = models.BooleanField(_("objects to direct marketing"), default=False)
    marketing_objection_at = models.DateTimeField(_("marketing objection given"), null=True, blank=True)
    email_bounced_at = models.DateTimeField(_("e-mail address bounced"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    DATA_FIELDS = ("first_name", "last_name", "title", "responsibility", "email", "phone", "interests")

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="contact_person_updated"),
            # The customer search finds contact persons by name, e-mail and phone (crm.selectors
            # ._contact_person_q); PostgreSQL only (crm/migrations/0005_contact_person_search_indexes).
            GinIndex(OpClass(Upper("first_name"), name="gin_trgm_ops"), name="contact_first_name_trgm"),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="contact_last_name_trgm"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="contact_email_trgm"),
            GinIndex(OpClass("phone", name="gin_trgm_ops"), name="contact_phone_trgm"),
            # A data-subject request's search matches an e-mail address or a phone number exactly
            # (privacy.requests.selectors.subject_candidates): a trigram index answers equality only by
            # rechecking every address sharing the domain's trigrams (crm/migrations/0007).
            models.Index(Upper("email"), name="contact_email_upper"),
            models.Index(fields=["phone"], name="contact_phone"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        if self.customer_id is not None and not self.customer.is_organisation:
            raise ValidationError({"customer": _("Only an organisation customer has contact persons.")})


class Interaction(RegisterAuditMixin, PersonalDataModel):
    class Kind(models.TextChoices):
        CALL_IN = "call_in", _("incoming call")
        CALL_OUT = "call_out", _("outgoing call")
        EMAIL_IN = "email_in", _("incoming e-mail")
        EMAIL_OUT = "email_out", _("outgoing e-mail")
        MEETING = "meeting", _("meeting")
        EVENT = "event", _("event")
        PURCHASED_SERVICE = "purchased_service", _("purchased service")
        ASSIGNMENT = "assignment", _("assignment")
        NOTE = "note", _("note")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", verbose_name=_("customer")
    )
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("contact person"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    subject = PersonalCharField(_("subject"), max_length=200)
    text = PersonalTextField(_("text"), blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff user"),
    )
    # Optimistic locking of corrections, as on customers and contact persons (the integration API's If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)

    # Kinds that report something that has happened ("incoming call, 1.3.2027" is a typing error). Events,
    # assignments, purchased services and notes may be dated ahead: they are booked or agreed beforehand.
    PAST_KINDS = frozenset({Kind.CALL_IN, Kind.CALL_OUT, Kind.EMAIL_IN, Kind.EMAIL_OUT, Kind.MEETING})
    # A call typed as it ends, or a workstation clock a little ahead, is not "in the future".
    FUTURE_TOLERANCE = datetime.timedelta(minutes=5)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline"),
            models.Index(fields=["updated_at", "id"], name="interaction_updated"),
        ]

    def __str__(self) -> str:
        return self.subject

    @classmethod
    def is_too_early(cls, kind: str, occurred_at: datetime.datetime | None) -> bool:
        """Tell whether an interaction of `kind` at `occurred_at` claims to have happened in the future."""
        return (
            kind in cls.PAST_KINDS and occurred_at is not None and occurred_at > timezone.now() + cls.FUTURE_TOLERANCE
        )

    def clean(self) -> None:
        errors = {}
        if self.contact_person_id is not None and self.contact_person.customer_id != self.customer_id:
            errors["contact_person"] = _("The contact person belongs to another customer.")
        if self.is_too_early(self.kind, self.occurred_at):
            errors["occurred_at"] = ERROR_INTERACTION_IN_FUTURE
        if errors:
            raise ValidationError(errors)


class Invoice(RegisterAuditMixin, PersonalDataModel):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PAID = "paid", _("paid")
        IN_COLLECTION = "in_collection", _("in collection")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="invoices", verbose_name=_("customer")
    )
    number = PersonalCharField(_("invoice number"), max_length=50)
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-due_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="invoice_number_unique_per_customer"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="invoice_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def blocks_erasure(self) -> bool:
        """An open invoice or a debt in collection keeps the customer (seed 003)."""
        return self.status in {self.Status.OPEN, self.Status.IN_COLLECTION}


class OrderingClient(RegisterAuditMixin, TimeStampedModel):
    """A city department that buys the contact-centre service (beställarklient)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="ordering_clients", verbose_name=_("register")
    )
    department = PersonalCharField(_("department"), max_length=200)
    active_until = models.DateField(_("client until"), null=True, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_ordering_clients", verbose_name=_("managers")
    )

    class Meta:
        verbose_name = _("ordering client")
        verbose_name_plural = _("ordering clients")
        ordering = ["department"]
        constraints = [
            models.UniqueConstraint(fields=["register", "department"], name="ordering_client_unique_department")
        ]

    def __str__(self) -> str:
        return self.department

    def clean(self) -> None:
        if self.register_id is not None and self.register.kind != Register.Kind.CONTACT_CENTRE:
            raise ValidationError({"register": ERROR_WRONG_REGISTER_KIND})


class ArchiveQuerySet(PersonalDataQuerySet):
    """Archive rows may be created and, when their time is up, deleted; never changed."""

    def update(self, **kwargs):
        raise ValidationError(ERROR_IMMUTABLE, code="immutable")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValidationError(ERROR_IMMUTABLE, code="immutable")

    def update_or_create(self, *args, **kwargs):
        raise ValidationError(ERROR_IMMUTABLE, code="immutable")


class ArchiveItem(PersonalDataModel):
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    ordering_client = models.ForeignKey(
        OrderingClient, on_delete=models.PROTECT, related_name="+", verbose_name=_("ordering client")
    )

    objects = ArchiveQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(ERROR_IMMUTABLE, code="immutable")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.register_id is not None and self.register.kind != Register.Kind.CONTACT_CENTRE:
            raise ValidationError({"register": ERROR_WRONG_REGISTER_KIND})
        if self.ordering_client_id is not None and self.ordering_client.register_id != self.register_id:
            raise ValidationError({"ordering_client": _("The ordering client belongs to another register.")})


def archive_upload_to(instance, filename: str) -> str:
    # The stored name says nothing about the message: a path in a listing or a backup names no one.
    return f"archive/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ContactCentreMessage(RegisterAuditMixin, ArchiveItem):
    """An e-mail to or from a client, archived exactly as sent (seed 004).

    The raw message is kept whole, sealed (registers.sealing) in the media storage with its SHA-256 recorded:
    that is the message "as sent". The text fields hold what was read out of it for listing, search and
    display, with every personal identity code masked (docs/contact-centre-archive.md): no list, search,
    export or statistic can show a code, and only a contact-centre expert opens the original, logged.
    """

    class Direction(models.TextChoices):
        INCOMING = "in", _("incoming")
        OUTGOING = "out", _("outgoing")

    class Intake(models.TextChoices):
        RECORDED = "recorded", _("recorded by hand")
        MAILBOX = "mailbox", _("mailbox")
        MAILDIR = "maildir", _("server drop folder")
        UPLOAD = "upload", _("uploaded file")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    sender = PersonalCharField(_("from"), max_length=998)
    recipient = PersonalCharField(_("to"), max_length=2000)
    cc = PersonalCharField(_("copy to"), max_length=2000, blank=True)
    subject = PersonalCharField(_("subject"), max_length=998, blank=True)
    # An archived e-mail is kept whole, so it may be longer than a note.
    body = PersonalTextField(_("message"), max_length=100_000)
    # Sanitised (nh3) before it is stored, so a template may show it as it is.
    html_body = PersonalTextField(_("message as HTML"), max_length=400_000, blank=True)
    sent_at = models.DateTimeField(_("time"))
    intake = models.CharField(_("came in through"), max_length=10, choices=Intake.choices, default=Intake.RECORDED)
    internet_message_id = PersonalCharField(_("message ID"), max_length=998, blank=True)
    # Messages of one conversation share the key: a hash of the first message ID of References,
    # else of In-Reply-To, else of the message's own ID (crm.mail.thread_key).
    thread_key = models.CharField(_("conversation"), max_length=64, blank=True, db_index=True)
    raw = models.FileField(_("original message"), upload_to=archive_upload_to, blank=True)
    raw_sha256 = models.CharField(_("SHA-256 of the original"), max_length=64, blank=True)
    raw_size = models.PositiveIntegerField(_("size of the original"), default=0)
    unreadable = models.BooleanField(
        _("could not be read"),
        default=False,
        help_text=_("The message could not be parsed: it is kept as it came, and only the original shows it."),
    )
    identity_codes_masked = models.PositiveSmallIntegerField(_("identity codes masked"), default=0)

    class Meta:
        verbose_name = _("contact-centre message")
        verbose_name_plural = _("contact-centre messages")
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["register", "ordering_client", "-sent_at"], name="message_archive"),
            # The list of a whole register, newest first: also the plan of a search for a common word, which
            # walks this index and checks each row's stored search document until a page is full.
            models.Index(fields=["register", "-sent_at", "-id"], name="message_newest"),
        ]
        constraints = [
            # The idempotency of every intake: the same message read twice, by two workers at once or
            # after a crash, is one row.
            models.UniqueConstraint(
                fields=["ordering_client", "internet_message_id", "raw_sha256"],
                condition=~models.Q(raw_sha256=""),
                name="message_archived_once",
            )
        ]

    def __str__(self) -> str:
        return self.subject or str(self.code)


class MessageAttachment(RegisterAuditMixin, PersonalDataModel):
    """A file attached to an archived message; its type is what its content shows, not what its name says."""

    message = models.ForeignKey(
        ContactCentreMessage, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    filename = PersonalCharField(_("file name"), max_length=255)
    declared_type = PersonalCharField(_("type the sender gave"), max_length=255, blank=True)
    content_type = models.CharField(_("type by content"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.FileField(_("file"), upload_to=archive_upload_to)

    objects = ArchiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return self.filename

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(ERROR_IMMUTABLE, code="immutable")
        super().save(*args, **kwargs)

    @property
    def type_mismatch(self) -> bool:
        return bool(self.declared_type) and self.declared_type.split(";")[0].strip().lower() != self.content_type


class CallRecording(RegisterAuditMixin, ArchiveItem):
    """Metadata of a call recording; the recording itself lives on the contact-centre server."""

    recorded_at = models.DateTimeField(_("time"))
    agent_location_code = PersonalCharField(_("agent location code"), max_length=20)
    caller_number_fragment = PersonalCharField(
        _("part of the caller's number"),
        max_length=4,
        validators=[RegexValidator(r"^\d{1,4}$", _("Store at most four digits of the caller's number."))],
    )
    duration = models.DurationField(_("duration"), null=True, blank=True)

    class Meta:
        verbose_name = _("call recording")
        verbose_name_plural = _("call recordings")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["register", "ordering_client", "-recorded_at"], name="recording_archive")]

    def __str__(self) -> str:
        return f"{self.recorded_at:%Y-%m-%d %H:%M} {self.agent_location_code}"


class Tag(RegisterAuditMixin, TimeStampedModel):
    """A register's own label for grouping customers and contact persons ("event 2027", "export advice").

    Handlers create tags, staff apply them. A link row says who applied it and when. Links have no uniqueness
    constraint on purpose: a merge moves both records' links to the survivor (duplicates.merging) and two links
    of one tag must not stop it; the services never add a second link, and reads use EXISTS or DISTINCT.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(Register, on_delete=models.CASCADE, related_name="tags", verbose_name=_("register"))
    name = PersonalCharField(_("name"), max_length=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "register",
                Lower("name"),
                name="tag_name_unique_per_register",
                violation_error_message=_("The register already has a tag with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_links")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["tag", "customer"], name="customer_tag_tag"),
            models.Index(fields=["customer", "tag"], name="customer_tag_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.tag_id}:{self.customer_id}"


class ContactPersonTag(models.Model):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="contact_person_links")
    contact_person = models.ForeignKey(ContactPerson, on_delete=models.CASCADE, related_name="tag_links")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["tag", "contact_person"], name="contact_tag_tag"),
            models.Index(fields=["contact_person", "tag"], name="contact_tag_person"),
        ]

    def __str__(self) -> str:
        return f"{self.tag_id}:{self.contact_person_id}"


class SavedView(RegisterAuditMixin, TimeStampedModel):
    """A customer list's search, filters, sort and visible columns under a name, private or shared with the register.

    Its rows are never stored: they are the list's query run again (`crm.saved_views.segment_customers`), so a
    segment is always as fresh as the register. The list applies a view (`?view=<code>`); exports, labels, bulk
    actions (segments) and campaigns take one as their input.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("register")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    name = PersonalCharField(_("name"), max_length=100)
    shared = models.BooleanField(_("shared with the register"), default=False)
    # The customer list's query parameters (crm.forms.CustomerFilterForm plus `tag`), as the list's URL has them.
    query = models.JSONField(_("search and filters"), default=dict, blank=True)
    # The optional list columns shown (crm.exports.list_columns names); empty: the register's default.
    columns = models.JSONField(_("visible columns"), default=list, blank=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["register", "owner", "name"],
                name="saved_view_name_unique_per_owner",
                violation_error_message=_("You already have a saved view with this name in this register."),
            ),
        ]

    def __str__(self) -> str:
        return self.name
