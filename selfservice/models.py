"""The people who sign in to their own data, and the customer records they are linked to."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from privacy.requests.models import DataSubjectRequest
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalCharField, PersonalEmailField
from registers.models import Register, TimeStampedModel


class Assurance(models.TextChoices):
    """The level of assurance of an electronic identification (eIDAS art. 8)."""

    LOW = "low", _("low")
    SUBSTANTIAL = "substantial", _("substantial")
    HIGH = "high", _("high")


# Only these count as strong electronic identification (Act 617/2009 on strong electronic identification).
STRONG_ASSURANCE = frozenset({Assurance.SUBSTANTIAL, Assurance.HIGH})


class SubjectIdentity(TimeStampedModel):
    """A person as the identity provider knows them: its pseudonymous subject id, never a personal identity code.

    The name and e-mail address are the provider's, kept so that a handler can confirm a link the automatic match
    left open; `profile_id` is what the city's customer profile and its GDPR API (api.gdpr) know the person by.
    """

    issuer = models.CharField(_("identity provider"), max_length=300)
    subject = models.CharField(_("subject id at the provider"), max_length=255)
    profile_id = models.UUIDField(_("customer profile id"), unique=True)
    first_name = PersonalCharField(_("first name"), max_length=100, blank=True)
    last_name = PersonalCharField(_("last name"), max_length=100, blank=True)
    email = PersonalEmailField(_("e-mail"), blank=True)
    email_verified = models.BooleanField(_("e-mail verified by the provider"), default=False)
    assurance = models.CharField(_("level of assurance"), max_length=20, choices=Assurance.choices)
    last_signed_in_at = models.DateTimeField(_("last signed in"))

    class Meta:
        verbose_name = _("identified person")
        verbose_name_plural = _("identified people")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="subject_identity_unique")]

    def __str__(self) -> str:
        # Also what the audit trail stores as the entry's name: an id, not the person's name, which outlives
        # neither the person's records (erasure) nor this row (SUBJECT_IDENTITY_RETENTION_DAYS).
        return str(self.profile_id)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or str(self.profile_id)

    @staticmethod
    def profile_id_for(issuer: str, subject: str) -> uuid.UUID:
        # Helsinki-tunnistus's subject id is the profile's own UUID; another provider's id is turned into one that
        # stays the same for the same person at the same provider.
        try:
            return uuid.UUID(subject)
        except ValueError:
            return uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}#{subject}")


MATCHED_ON_LABELS = {"profile_id": _("customer profile id"), "email": _("e-mail"), "name": _("name")}


class IdentityLink(RegisterAuditMixin, TimeStampedModel):
    """A customer record found to be the identified person's: linked at once on an exact and unambiguous match,
    otherwise proposed to the register's request handlers, who confirm or reject it."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("waiting for a handler")
        LINKED = "linked", _("linked")
        REJECTED = "rejected", _("not the person")

    class Basis(models.TextChoices):
        EXACT_MATCH = "exact_match", _("exact match of name and verified e-mail")
        PROFILE = "profile", _("the record's customer profile id")
        HANDLER = "handler", _("confirmed by a handler")

    identity = models.ForeignKey(
        SubjectIdentity, on_delete=models.CASCADE, related_name="links", verbose_name=_("identified person")
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer"))
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+", verbose_name=_("register"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PROPOSED)
    basis = models.CharField(_("linked by"), max_length=20, choices=Basis.choices, blank=True)
    # Which of the provider's attributes matched the record, e.g. ["email"] or ["email", "name"].
    matched_on = models.JSONField(_("matched on"), default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("link of an identified person")
        verbose_name_plural = _("links of identified people")
        constraints = [models.UniqueConstraint(fields=["identity", "customer"], name="identity_link_unique")]
        indexes = [models.Index(fields=["register", "state"], name="identity_link_queue")]

    def __str__(self) -> str:
        return f"{self.identity_id} → {self.customer_id}"

    @property
    def matched_labels(self) -> list[str]:
        return [str(MATCHED_ON_LABELS.get(name, name)) for name in self.matched_on]


class IdentifiedRequest(models.Model):
    """A data-subject request filed by a person signed in with strong identification: theirs to follow on the
    "my data" pages, and to download the answer of."""

    identity = models.ForeignKey(
        SubjectIdentity, on_delete=models.CASCADE, related_name="requests", verbose_name=_("identified person")
    )
    request = models.OneToOneField(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="+", verbose_name=_("request")
    )
    assurance = models.CharField(_("level of assurance"), max_length=20, choices=Assurance.choices)
    identified_at = models.DateTimeField(_("identified"))

    class Meta:
        verbose_name = _("request of an identified person")
        verbose_name_plural = _("requests of identified people")

    def __str__(self) -> str:
        return str(self.request_id)
