"""The archiving service every intake goes through: parsing, masking, files, idempotency."""

import pytest
from django.db import connection

from archive.services import message_archive
from crm.mail import parse
from crm.models import ContactCentreMessage, MessageAttachment
from registers.sealing import unseal
from registers.validators import IDENTITY_CODE_MASK, contains_identity_code
from tests.factories import OrderingClientFactory

from . import mail_samples

pytestmark = pytest.mark.django_db

INCOMING = ContactCentreMessage.Direction.INCOMING
UPLOAD = ContactCentreMessage.Intake.UPLOAD


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def archive(raw, client=None, direction=INCOMING):
    client = client or OrderingClientFactory()
    return message_archive(raw=raw, ordering_client=client, direction=direction, intake=UPLOAD)


def test_a_plain_message_is_archived_with_its_fields_and_its_original():
    raw = mail_samples.plain(body="Laskuni numero 123 on väärin.", message_id="<a1@example.fi>")
    result = archive(raw)
    message = result.message
    assert result.created
    assert message.sender == "Asiakas Esimerkki <asiakas@example.fi>"
    assert message.recipient == "neuvonta@hel.example.fi"
    assert message.subject == "Kysymys laskusta"
    assert "Laskuni numero 123 on väärin." in message.body
    assert message.internet_message_id == "a1@example.fi"
    assert message.raw_size == len(raw)
    with message.raw.open("rb") as stored:
        sealed = stored.read()
    assert raw not in sealed, "the original is sealed at rest"
    assert unseal(sealed) == raw, "the original comes back byte for byte"


def test_the_same_message_twice_is_one_row():
    client = OrderingClientFactory()
    raw = mail_samples.plain(message_id="<twice@example.fi>")
    first, second = archive(raw, client), archive(raw, client)
    assert first.created
    assert not second.created
    assert second.message.pk == first.message.pk
    assert ContactCentreMessage.objects.filter(ordering_client=client).count() == 1


def test_another_message_with_the_same_id_is_kept_too():
    # A resent message may reuse its Message-ID with another body: the hash of the raw tells them apart.
    client = OrderingClientFactory()
    archive(mail_samples.plain(message_id="<same@example.fi>", body="Ensimmäinen"), client)
    archive(mail_samples.plain(message_id="<same@example.fi>", body="Toinen"), client)
    assert ContactCentreMessage.objects.filter(ordering_client=client).count() == 2


def test_a_message_is_kept_once_per_ordering_client():
    raw = mail_samples.plain(message_id="<both@example.fi>")
    archive(raw)
    archive(raw)
    assert ContactCentreMessage.objects.filter(internet_message_id="both@example.fi").count() == 2


def test_attachments_are_stored_sealed_with_the_type_their_content_shows():
    raw = mail_samples.with_attachments(
        attachments=[
            ("lomake.pdf", "application", "pdf", mail_samples.PDF),
            # Named and declared as a PDF, but a PNG picture inside.
            ("kuitti.pdf", "application", "pdf", mail_samples.PNG),
        ]
    )
    message = archive(raw).message
    attachments = list(message.attachments.order_by("id"))
    assert [(a.filename, a.content_type) for a in attachments] == [
        ("lomake.pdf", "application/pdf"),
        ("kuitti.pdf", "image/png"),
    ]
    assert not attachments[0].type_mismatch
    assert attachments[1].type_mismatch
    with attachments[0].file.open("rb") as stored:
        assert unseal(stored.read()) == mail_samples.PDF


def test_html_is_sanitised_before_it_is_stored():
    raw = mail_samples.with_attachments(
        attachments=[],
        html='<p onclick="x()">Hei <b>sinä</b><script>alert(1)</script><img src="https://tracker.example/p.gif">'
        '<a href="javascript:alert(1)">linkki</a></p>',
    )
    message = archive(raw).message
    assert "<b>sinä</b>" in message.html_body
    for forbidden in ("script", "onclick", "<img", "tracker.example", "javascript:"):
        assert forbidden not in message.html_body


def test_a_non_utf8_message_is_read_in_its_own_charset():
    message = archive(mail_samples.latin1()).message
    assert message.subject == "Päivää"
    assert "Åke Öberg" in message.body
    assert not message.unreadable


def test_a_message_with_malformed_headers_keeps_what_can_be_read():
    raw = mail_samples.malformed_header()
    message = archive(raw).message
    assert "ilman kelvollista" in message.body
    with message.raw.open("rb") as stored:
        assert unseal(stored.read()) == raw


def test_an_unparseable_message_is_kept_raw_and_flagged():
    raw = mail_samples.garbage()
    message = archive(raw).message
    assert message.unreadable
    assert message.body == ""
    with message.raw.open("rb") as stored:
        assert unseal(stored.read()) == raw


@pytest.mark.parametrize("code", ["131052-308T", "131052308T", "010101A123N"])
def test_identity_codes_are_masked_in_every_stored_text_and_kept_in_the_original(code):
    raw = mail_samples.with_attachments(
        body=f"Henkilötunnukseni on {code}, tarkistakaa.",
        html=f"<p>Tunnus {code}</p>",
        attachments=[(f"hakemus {code}.pdf", "application", "pdf", mail_samples.PDF)],
    )
    message = archive(raw).message
    assert message.identity_codes_masked == 3
    for value in (message.body, message.html_body, message.subject, message.attachments.get().filename):
        assert not contains_identity_code(value)
    assert IDENTITY_CODE_MASK in message.body
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, html_body FROM crm_contactcentremessage WHERE id = %s", [message.pk])
        assert code not in " ".join(cursor.fetchone())
    with message.raw.open("rb") as stored:
        assert code in parse(unseal(stored.read()), masked=False).body


def test_a_reply_joins_the_conversation_of_the_message_it_answers():
    client = OrderingClientFactory()
    first = archive(mail_samples.plain(message_id="<root@example.fi>"), client).message
    reply = archive(
        mail_samples.plain(message_id="<r1@hel.example.fi>", in_reply_to="<root@example.fi>"), client
    ).message
    reply_to_reply = archive(
        mail_samples.plain(
            message_id="<r2@example.fi>",
            in_reply_to="<r1@hel.example.fi>",
            references="<root@example.fi> <r1@hel.example.fi>",
        ),
        client,
    ).message
    other = archive(mail_samples.plain(message_id="<other@example.fi>"), client).message
    assert first.thread_key == reply.thread_key == reply_to_reply.thread_key != other.thread_key


def test_a_purged_message_takes_its_files_with_it(django_capture_on_commit_callbacks, settings):
    message = archive(mail_samples.with_attachments()).message
    paths = [settings.MEDIA_ROOT / message.raw.name, settings.MEDIA_ROOT / message.attachments.get().file.name]
    assert all(path.exists() for path in paths)
    with django_capture_on_commit_callbacks(execute=True):
        ContactCentreMessage.objects.filter(pk=message.pk).delete()
    assert not MessageAttachment.objects.exists()
    assert not any(path.exists() for path in paths)
