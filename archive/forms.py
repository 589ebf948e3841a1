"""Input of the archive's intake screens: a mailbox's settings with its write-only password, an uploaded mail file."""

import contextlib
import mailbox
import re
import shutil
import tempfile
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from email.policy import compat32

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, OrderingClient
from registers.fields import PersonalCharFormField

from .models import Mailbox
from .selectors import ordering_clients_for_upload

ERROR_PASSWORD_REQUIRED = _("Enter the mailbox's password.")
HELP_PASSWORD_NEW = _("The password or app password of the mailbox. It is stored encrypted and never shown again.")
HELP_PASSWORD_CHANGE = _("Leave empty to keep the current password. A password is never shown again once saved.")

ERROR_NO_FILE = _("Choose an .eml or .mbox file.")
ERROR_TOO_LARGE = _("The file is larger than %(limit)s MB.")
ERROR_NOT_MAIL = _("The file is not an e-mail message (.eml) or a mailbox (.mbox).")
ERROR_EMPTY_MBOX = _("The mailbox file holds no messages.")
HELP_FILE = _(
    "One message as an .eml file, or many as an .mbox file, at most %(limit)s MB. Every message is kept as it is "
    "in the file; a message already in the archive is not added twice."
)

# An mbox file starts with the separator line of its first message (RFC 4155).
MBOX_START = b"From "
# Enough of an .eml file's beginning to hold its header section.
HEAD_BYTES = 64 * 1024
# A header field name (RFC 5322 section 3.6.8: printable ASCII but the colon) and its colon.
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
# Fields every e-mail carries at least one of; a text file with a colon in its first line carries none.
_MAIL_FIELDS = frozenset({"from", "to", "cc", "subject", "date", "message-id", "received", "return-path", "sender"})


class MailboxAdminForm(forms.ModelForm):
    """A mailbox's settings; the password is written, sealed, and never rendered back."""

    # The checks of every text field apply: a password shaped like an identity code is refused, since the
    # sealed value would still hold one (registers.fields).
    password = PersonalCharFormField(
        label=_("password"),
        required=False,
        strip=False,
        max_length=255,
        # render_value=False: neither the sealed token nor the password ever reaches the page.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Mailbox
        fields = [
            "ordering_client",
            "name",
            "host",
            "port",
            "security",
            "username",
            "password",
            "inbox_folder",
            "sent_folder",
            "processed_folder",
            "poll_minutes",
            "enabled",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = self.instance._state.adding
        self.fields["password"].help_text = HELP_PASSWORD_NEW if self.creating else HELP_PASSWORD_CHANGE

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.creating and not password:
            raise ValidationError(ERROR_PASSWORD_REQUIRED, code="required")
        return password

    def _post_clean(self):
        # The model's full_clean runs here; the sealed password is set first so the row is complete.
        password = self.cleaned_data.get("password")
        if password:
            self.instance.set_password(password)
        super()._post_clean()


def _looks_like_mail(head: bytes) -> bool:
    """Tell whether a file's beginning is an e-mail's header section."""
    head = head.lstrip(b"\r\n\t ")
    if not _HEADER_LINE.match(head):
        return False
    headers = BytesHeaderParser(policy=compat32).parsebytes(head)
    return any(name.lower() in _MAIL_FIELDS for name in headers)


class MailUploadForm(forms.Form):
    """An .eml or .mbox file of historical mail, the ordering client it belongs to, and its direction."""

    file = forms.FileField(
        label=_("File"),
        error_messages={"required": ERROR_NO_FILE, "empty": ERROR_NO_FILE},
        widget=forms.ClearableFileInput(attrs={"accept": ".eml,.mbox,message/rfc822,application/mbox"}),
    )
    ordering_client = forms.ModelChoiceField(
        label=_("Ordering client"),
        queryset=None,
        to_field_name="code",
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the ordering clients listed.")},
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=ContactCentreMessage.Direction.choices,
        initial=ContactCentreMessage.Direction.INCOMING,
        widget=forms.RadioSelect,
        help_text=_("Incoming: mail the clients sent. Outgoing: the answers sent to them."),
    )

    def __init__(self, *args, user=None, register=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Without a user and a register (a form built for a check of every form) no client is offered.
        clients = OrderingClient.objects.none()
        if user is not None and register is not None:
            clients = ordering_clients_for_upload(user=user, register=register)
        self.fields["ordering_client"].queryset = clients
        self.limit_mb = settings.ARCHIVE_UPLOAD_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = HELP_FILE % {"limit": self.limit_mb}
        self.is_mbox = False
        self._mbox_copy = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ARCHIVE_UPLOAD_MAX_BYTES:
            raise ValidationError(ERROR_TOO_LARGE, code="too_large", params={"limit": self.limit_mb})
        upload.seek(0)
        head = upload.read(HEAD_BYTES)
        upload.seek(0)
        if head.startswith(MBOX_START):
            self.is_mbox = True
            if not self._mbox_has_mail(upload):
                raise ValidationError(ERROR_EMPTY_MBOX, code="empty_mbox")
        elif not _looks_like_mail(head):
            raise ValidationError(ERROR_NOT_MAIL, code="not_mail")
        return upload

    def _mbox_path(self, upload) -> str:
        # The stdlib reader needs a file on disk; a large upload already is one, a small one is copied.
        if hasattr(upload, "temporary_file_path"):
            return upload.temporary_file_path()
        if self._mbox_copy is None:
            self._mbox_copy = tempfile.NamedTemporaryFile(prefix="upload-", suffix=".mbox")  # noqa: SIM115
            upload.seek(0)
            shutil.copyfileobj(upload, self._mbox_copy)
            self._mbox_copy.flush()
            upload.seek(0)
        return self._mbox_copy.name

    def _mbox_has_mail(self, upload) -> bool:
        box = mailbox.mbox(self._mbox_path(upload), create=False)
        try:
            # Usually the first message answers; only a file of blank messages is read to its end.
            return any(box.get_bytes(key).strip() for key in box.iterkeys())
        finally:
            box.close()

    def raw_messages(self) -> Iterator[bytes]:
        """Yield the file's messages as raw bytes, one at a time: an mbox is never read into memory whole."""
        upload = self.cleaned_data["file"]
        if not self.is_mbox:
            upload.seek(0)
            yield upload.read()
            return
        box = mailbox.mbox(self._mbox_path(upload), create=False)
        try:
            for key in box.iterkeys():
                raw = box.get_bytes(key)
                # Blank lines between "From " separators are no message.
                if raw.strip():
                    yield raw
        finally:
            box.close()
            if self._mbox_copy is not None:
                with contextlib.suppress(OSError):
                    self._mbox_copy.close()
                self._mbox_copy = None
