"""Reading an e-mail as it came: the one parser of the contact-centre archive.

Every intake (a mailbox, a server drop folder, an uploaded .eml or .mbox) and the expert's view of an
original read a message through `parse`. It never raises: what cannot be read is reported as `unreadable`
with the reason, and the archive keeps the raw message all the same (seed 004: kept exactly as sent).

Identity codes are masked in everything `parse` returns unless `masked=False` (only the expert's view of
the original asks for that); HTML is sanitised with nh3 either way.
"""

import datetime
import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

import magic
import nh3
from django.utils import timezone

from registers.validators import mask_identity_codes

# Field sizes of crm.models.ContactCentreMessage: what is longer is cut for display (the original keeps it all).
LINE_MAX = 998
ADDRESSES_MAX = 2000
BODY_MAX = 100_000
HTML_MAX = 400_000
FILENAME_MAX = 255
CUT_MARK = "\u2026"

# Display HTML: structure and emphasis only. No images (a remote image is a read receipt for the sender, an
# embedded one a place to hide things), no styles, no forms; links open outside the app, without a referrer.
HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
HTML_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
HTML_URL_SCHEMES = {"http", "https", "mailto"}

# The write guard of registers.fields refuses these; an e-mail may carry them, so they become spaces.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


@dataclass
class ParsedAttachment:
    filename: str
    declared_type: str
    content_type: str
    data: bytes


@dataclass
class ParsedMessage:
    message_id: str = ""
    sender: str = ""
    recipient: str = ""
    cc: str = ""
    subject: str = ""
    sent_at: datetime.datetime | None = None
    body: str = ""
    html_body: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    unreadable: bool = False
    problem: str = ""
    identity_codes_masked: int = 0

    @property
    def thread_root(self) -> str:
        """The message ID that names the conversation: the first of References, else In-Reply-To, else its own."""
        return (self.references[0] if self.references else "") or self.in_reply_to or self.message_id


def thread_key(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest() if message_id else ""


def raw_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def content_type_of(data: bytes) -> str:
    """Return the MIME type the content shows (libmagic), never the one a file name or a sender claims."""
    if not data:
        return "application/x-empty"
    try:
        return magic.from_buffer(data[:65536], mime=True) or "application/octet-stream"
    except magic.MagicException:
        return "application/octet-stream"


def _clean(text: str, limit: int) -> str:
    text = _CONTROL_CHARACTERS.sub(" ", text or "")
    if len(text) > limit:
        text = text[: limit - 1] + CUT_MARK
    return text


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        value = ""
    return " ".join(str(value or "").split())


def _addresses(message: Message, name: str) -> str:
    try:
        values = [str(value) for value in (message.get_all(name) or [])]
    except Exception:
        return ""
    pairs = getaddresses(values)
    rendered = [f"{name} <{address}>" if name else address for name, address in pairs if address or name]
    return ", ".join(rendered) if rendered else _header(message, name)


def _message_ids(text: str) -> list[str]:
    return _MESSAGE_ID.findall(text or "")


def _decoded_text(part: Message) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError, AttributeError):
        data = part.get_payload(decode=True) or b""
        for charset in ("utf-8", "cp1252"):
            try:
                return data.decode(charset)
            except UnicodeDecodeError:
                continue
        return data.decode("latin-1")


def sanitise_html(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        url_schemes=HTML_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(markup: str) -> str:
    text = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", markup), tags=set())
    return html.unescape(re.sub(r"\n{3,}", "\n\n", text)).strip()


def _attachments(message: EmailMessage) -> list[ParsedAttachment]:
    found = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        declared = part.get_content_type()
        if part.is_multipart() or declared == "message/rfc822":
            # A forwarded message is kept as the .eml it was.
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            data = inner.as_bytes(policy=email.policy.SMTP) if isinstance(inner, Message) else b""
            name = part.get_filename() or f"message-{number}.eml"
        else:
            data = part.get_payload(decode=True) or b""
            name = part.get_filename() or f"attachment-{number}"
        found.append(
            ParsedAttachment(filename=name, declared_type=declared, content_type=content_type_of(data), data=data)
        )
    # A part inside a nested multipart (say, multipart/mixed inside multipart/related) counts too.
    for part in message.iter_parts():
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            found.extend(_attachments(part))
    return found


def _mask(parsed: ParsedMessage) -> None:
    total = 0
    for name in ("message_id", "sender", "recipient", "cc", "subject", "body", "html_body", "in_reply_to"):
        value, count = mask_identity_codes(getattr(parsed, name))
        setattr(parsed, name, value)
        total += count
    parsed.references = [mask_identity_codes(reference)[0] for reference in parsed.references]
    for attachment in parsed.attachments:
        attachment.filename, count = mask_identity_codes(attachment.filename)
        attachment.declared_type, declared = mask_identity_codes(attachment.declared_type)
        total += count + declared
    parsed.identity_codes_masked = total


def parse(raw: bytes, *, received_at: datetime.datetime | None = None, masked: bool = True) -> ParsedMessage:
    """Read what a display, a search and a thread need out of a raw message; never raise."""
    parsed = ParsedMessage()
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if not message.keys():
            raise ValueError("no headers")
        parsed.subject = _clean(_header(message, "Subject"), LINE_MAX)
        parsed.sender = _clean(_addresses(message, "From"), LINE_MAX)
        parsed.recipient = _clean(_addresses(message, "To"), ADDRESSES_MAX)
        parsed.cc = _clean(_addresses(message, "Cc"), ADDRESSES_MAX)
        ids = _message_ids(_header(message, "Message-ID"))
        parsed.message_id = _clean(ids[0] if ids else "", LINE_MAX)
        in_reply_to = _message_ids(_header(message, "In-Reply-To"))
        parsed.in_reply_to = _clean(in_reply_to[0] if in_reply_to else "", LINE_MAX)
        parsed.references = [_clean(ref, LINE_MAX) for ref in _message_ids(_header(message, "References"))]
        try:
            parsed.sent_at = parsedate_to_datetime(_header(message, "Date"))
            if timezone.is_naive(parsed.sent_at):
                parsed.sent_at = timezone.make_aware(parsed.sent_at, datetime.UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed.sent_at = None
        plain = message.get_body(preferencelist=("plain",))
        rich = message.get_body(preferencelist=("html",))
        markup = _decoded_text(rich) if rich is not None else ""
        text = _decoded_text(plain) if plain is not None else html_to_text(markup)
        if plain is None and rich is None and not message.is_multipart():
            text = _decoded_text(message)
        parsed.body = _clean(text, BODY_MAX)
        parsed.html_body = _clean(sanitise_html(markup), HTML_MAX) if markup else ""
        parsed.attachments = _attachments(message)
        for attachment in parsed.attachments:
            attachment.filename = _clean(attachment.filename, FILENAME_MAX)
        if not (parsed.sender or parsed.recipient or parsed.subject or parsed.body or parsed.attachments):
            raise ValueError("nothing readable")
    except Exception as error:
        parsed.unreadable = True
        # The kind of failure only: an error's text may quote the message, identity codes included.
        parsed.problem = type(error).__name__
        parsed.body = parsed.html_body = ""
        parsed.attachments = []
    parsed.sent_at = parsed.sent_at or received_at or timezone.now()
    if masked:
        _mask(parsed)
    return parsed
