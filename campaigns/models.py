"""Campaign e-mail: a message in fi, sv and en to the people of a segment, sent once each, objections honoured.

A campaign is a small state machine (draft → queued → sending → sent, or cancelled before it is sent; the
transitions live in `campaigns.services`). Queuing it freezes its audience: one `CampaignRecipient` row per
address that may receive it, chosen when queued and checked again just before each message leaves, so an
objection given between the two still stops the message. The unique (campaign, address) pair and the
recipient's state make the send resumable: a worker killed mid-send leaves rows `queued` or `sending`, and the
next run sends only the `queued` ones (a `sending` row whose outcome is unknown is not sent again; see
`campaigns.sending`).
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from archive.models import Mailbox
from crm.models import ContactPerson, Customer, Interaction, SavedView
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalCharField, PersonalEmailField, PersonalTextField
from registers.models import Organisation, Register, TimeStampedModel


class Campaign(RegisterAuditMixin, TimeStampedModel):
    class Audience(models.TextChoices):
        PERSONS = "persons", _("persons of the segment")
        CONTACT_PERSONS = "contact_persons", _("contact persons of the segment's organisations")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="campaigns", verbose_name=_("register")
    )
    name = PersonalCharField(_("name"), max_length=150)
    segment = models.ForeignKey(
        SavedView, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns", verbose_name=_("segment")
    )
    audience = models.CharField(_("recipients"), max_length=20, choices=Audience.choices, default=Audience.PERSONS)
    subject_fi = PersonalCharField(_("subject in Finnish"), max_length=200, blank=True)
    subject_sv = PersonalCharField(_("subject in Swedish"), max_length=200, blank=True)
    subject_en = PersonalCharField(_("subject in English"), max_length=200, blank=True)
    body_fi = PersonalTextField(_("message in Finnish"), blank=True)
    body_sv = PersonalTextField(_("message in Swedish"), blank=True)
    body_en = PersonalTextField(_("message in English"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    # Messages per minute the sender may hand to the mail server (the provider's limit, or a courtesy to it).
    rate_per_minute = models.PositiveIntegerField(
        _("messages per minute"),
        default=600,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Who was left out when it was queued, and why: {"objection": n, "restricted": n, "no_email": n, "bounced": n}.
    exclusions = models.JSONField(_("left out"), default=dict, blank=True, editable=False)
    sent_count = models.PositiveIntegerField(default=0, editable=False)
    skipped_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("waiting")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("left out")
        FAILED = "failed", _("could not be sent")
        BOUNCED = "bounced", _("bounced")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="campaign_messages")
    contact_person = models.ForeignKey(
        ContactPerson, on_delete=models.CASCADE, null=True, blank=True, related_name="campaign_messages"
    )
    # Lower-cased; one message per address per campaign.
    email = PersonalEmailField()
    language = models.CharField(max_length=2)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # Why a queued recipient was left out at the last check (an objection given after queuing, ...).
    skip_reason = models.CharField(max_length=20, blank=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message_id = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    interaction = models.ForeignKey(Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="campaign_one_message_per_address"),
        ]
        indexes = [models.Index(fields=["campaign", "state", "id"], name="campaign_recipient_state")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.email}"


class BounceMailbox(RegisterAuditMixin, TimeStampedModel):
    """The mailbox where a controller's campaign messages bounce to (their Return-Path), read like the archive's."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="bounce_mailbox", verbose_name=_("controller")
    )
    address = PersonalEmailField(_("bounce address"), help_text=_("The Return-Path of every campaign message."))
    host = PersonalCharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993, validators=[MaxValueValidator(65535)])
    security = models.CharField(
        _("connection security"), max_length=10, choices=Mailbox.Security.choices, default=Mailbox.Security.TLS
    )
    username = PersonalCharField(_("user name"), max_length=255)
    sealed_password = models.TextField(_("password"), editable=False)
    folder = PersonalCharField(_("folder"), max_length=255, default="INBOX")
    enabled = models.BooleanField(_("in use"), default=True)
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last read"), null=True, blank=True, editable=False)
    last_problems = models.JSONField(_("last problem"), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("bounce mailbox")
        verbose_name_plural = _("bounce mailboxes")

    def __str__(self) -> str:
        return self.address
