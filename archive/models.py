"""Where the contact-centre archive's messages and recording lists come from (seed 004, issue 17)."""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, OrderingClient
from registers.audit_scope import RegisterAuditMixin
from registers.fields import PersonalCharField
from registers.models import TimeStampedModel
from registers.sealing import seal_text, unseal_text


class Mailbox(RegisterAuditMixin, TimeStampedModel):
    """An ordering client's mailbox, read by the poller: its inbox as incoming mail, its sent folder as outgoing."""

    class Security(models.TextChoices):
        TLS = "tls", _("TLS (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        # Only for a server on this machine, such as the test server: the password would cross the
        # network in clear otherwise.
        PLAIN = "plain", _("none (a server on this machine only)")

    class Problem(models.TextChoices):
        """Why the last read failed: the reason only, never the password, a server's answer or a message."""

        LOGIN = "login", _("The server refused the user name or the password.")
        CONNECTION = "connection", _("The server could not be reached.")
        TIMEOUT = "timeout", _("The server did not answer in time.")
        TLS = "tls", _("A secure connection to the server could not be made (TLS or its certificate failed).")
        PLAIN_REMOTE = "plain_remote", _("A connection without encryption is allowed only to a server on this machine.")
        PASSWORD_UNREADABLE = (
            "password_unreadable",
            _("The stored password cannot be opened with the current key; enter it again."),
        )
        FOLDER_MISSING = "folder_missing", _("The folder %(folder)s does not exist on the server.")
        MOVE = "move", _("Archived messages could not be moved to the folder %(folder)s.")
        ARCHIVE = "archive", _("A message could not be archived; it will be tried again on the next read.")
        PROTOCOL = "protocol", _("The server gave an answer that could not be understood.")

    ordering_client = models.ForeignKey(
        OrderingClient, on_delete=models.PROTECT, related_name="+", verbose_name=_("ordering client")
    )
    name = PersonalCharField(_("name"), max_length=100)
    host = PersonalCharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993, validators=[MaxValueValidator(65535)])
    security = models.CharField(_("connection security"), max_length=10, choices=Security.choices, default="tls")
    username = PersonalCharField(_("user name"), max_length=255)
    # A Fernet token (registers.sealing): the poller needs the password itself, so it is sealed, not hashed.
    sealed_password = models.TextField(_("password"), editable=False)
    inbox_folder = PersonalCharField(_("incoming mail folder"), max_length=255, default="INBOX")
    sent_folder = PersonalCharField(_("sent mail folder"), max_length=255, blank=True, default="Sent")
    processed_folder = PersonalCharField(
        _("move archived messages to"),
        max_length=255,
        blank=True,
        help_text=_("Leave empty to leave every message where it is; nothing is deleted from the mailbox."),
    )
    poll_minutes = models.PositiveIntegerField(
        _("read every (minutes)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    enabled = models.BooleanField(_("in use"), default=True)
    last_polled_at = models.DateTimeField(_("last read"), null=True, blank=True, editable=False)
    # [{"problem": <Problem>, "folder": <name>}]: stored as codes, shown in the reader's language.
    last_problems = models.JSONField(_("last problem"), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["ordering_client", "name"]
        constraints = [models.UniqueConstraint(fields=["ordering_client", "name"], name="mailbox_unique_name")]

    def __str__(self) -> str:
        return f"{self.ordering_client}: {self.name}"

    def _last_error(self) -> str:
        """The last read's problems in the active language; empty when the last read went well."""
        texts = []
        for problem in self.last_problems or []:
            try:
                label = self.Problem(problem.get("problem")).label
            except ValueError:
                continue
            texts.append(str(label) % {"folder": problem.get("folder", "")} if "%(" in str(label) else str(label))
        return " ".join(texts)

    _last_error.short_description = _("last problem")
    last_error = property(_last_error)

    def set_password(self, password: str) -> None:
        self.sealed_password = seal_text(password)

    def password(self) -> str:
        return unseal_text(self.sealed_password)

    def is_due(self, now: datetime.datetime | None = None) -> bool:
        if not self.enabled:
            return False
        if self.last_polled_at is None:
            return True
        return (now or timezone.now()) - self.last_polled_at >= datetime.timedelta(minutes=self.poll_minutes)

    def folders(self) -> list[tuple[str, str]]:
        """Return the folders to read with the direction of their messages."""
        pairs = [(self.inbox_folder, ContactCentreMessage.Direction.INCOMING)]
        if self.sent_folder:
            pairs.append((self.sent_folder, ContactCentreMessage.Direction.OUTGOING))
        return pairs

    def clean(self) -> None:
        if self.processed_folder and self.processed_folder in {self.inbox_folder, self.sent_folder}:
            raise ValidationError({"processed_folder": _("Choose a folder other than the folders that are read.")})
        if self.sent_folder and self.sent_folder == self.inbox_folder:
            raise ValidationError({"sent_folder": _("The sent mail folder must differ from the incoming one.")})


class MailboxFolder(models.Model):
    """How far a folder of a mailbox has been read: IMAP UIDs are only comparable under one UIDVALIDITY."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="states")
    name = models.CharField(max_length=255)
    uid_validity = models.BigIntegerField(null=True)
    last_uid = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_unique")]

    def __str__(self) -> str:
        return f"{self.mailbox} / {self.name}"


class RecordingList(models.Model):
    """A daily list of call recordings read from the drop folder: each file once, whatever its name."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    filename = models.CharField(_("file name"), max_length=255)
    read_at = models.DateTimeField(_("read"), default=timezone.now)
    imported = models.PositiveIntegerField(_("recordings added"), default=0)
    skipped = models.PositiveIntegerField(_("already in the archive"), default=0)
    # Row numbers and reasons; no row content, which holds a part of a caller's number.
    problems = models.JSONField(_("rows refused"), default=list, blank=True)

    class Meta:
        verbose_name = _("recording list")
        verbose_name_plural = _("recording lists")
        ordering = ["-read_at"]

    def __str__(self) -> str:
        return self.filename
