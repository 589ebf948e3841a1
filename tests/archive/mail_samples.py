"""Raw e-mails as mail servers deliver them: the cases every intake of the archive must survive."""

import base64
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# A one-pixel picture.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def plain(
    *,
    subject="Kysymys laskusta",
    body="Hei, laskuni on väärin.",
    sender="Asiakas Esimerkki <asiakas@example.fi>",
    to="neuvonta@hel.example.fi",
    message_id=None,
    in_reply_to=None,
    references=None,
    sent_at=None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at or timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="example.fi")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content(body)
    return message.as_bytes()


def with_attachments(*, body="Liitteenä lomake.", attachments=None, html=None, message_id=None) -> bytes:
    message = EmailMessage()
    message["From"] = "asiakas@example.fi"
    message["To"] = "neuvonta@hel.example.fi"
    message["Subject"] = "Lomake liitteenä"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="example.fi")
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, maintype, subtype, data in attachments or [("lomake.pdf", "application", "pdf", PDF)]:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def latin1(body="Hyvää päivää, täällä Åke Öberg.") -> bytes:
    return (
        "From: =?iso-8859-1?q?=C5ke_=D6berg?= <ake@example.fi>\r\n"
        "To: neuvonta@hel.example.fi\r\n"
        "Subject: =?iso-8859-1?q?P=E4iv=E4=E4?=\r\n"
        "Date: Mon, 02 Nov 2026 10:00:00 +0200\r\n"
        "Message-ID: <latin1-1@example.fi>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + body.encode("latin-1")


def malformed_header() -> bytes:
    return (
        b"From: <<<broken@@example..fi\r\n"
        b"To: neuvonta@hel.example.fi\r\n"
        b"Subject: =?utf-8?q?rikki?= =?x-unknown?b?////?=\r\n"
        b"Date: not a date at all\r\n"
        b"Message-ID: <malformed-1@example.fi>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
        b"Runko \xff\xfe ilman kelvollista merkist\xf6\xe4.\r\n"
    )


def garbage() -> bytes:
    return b"\x00\x01\x02 this is not an e-mail \xff\xfe\x00"
