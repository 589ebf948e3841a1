"""Reading mailboxes over IMAP into the archive, against a real Dovecot (tests/archive/dovecot.py)."""

import contextlib
import datetime
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

import archive.imap
import archive.services
from archive import imap
from archive.imap import mailbox_poll
from archive.models import Mailbox, MailboxFolder
from archive.tasks import mailboxes_poll
from crm.models import ContactCentreMessage, MessageAttachment
from registers.sealing import unseal
from tests.factories import OrderingClientFactory
from tests.locks import advisory_lock_held_elsewhere

from . import mail_samples
from .conftest import mailbox_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]


@pytest.fixture
def english():
    # The problems are stored as codes and shown in the reader's language; these tests read them in English.
    with translation.override("en"):
        yield


INCOMING = ContactCentreMessage.Direction.INCOMING
OUTGOING = ContactCentreMessage.Direction.OUTGOING


def archived(mailbox):
    return ContactCentreMessage.objects.filter(ordering_client=mailbox.ordering_client)


def test_every_kind_of_message_is_archived_once_with_its_direction(dovecot, dovecot_account):
    user = dovecot_account[0]
    duplicate = mail_samples.plain(message_id="<twice@example.fi>", body="Sama viesti kahdesti.")
    inbox = [
        mail_samples.with_attachments(message_id="<attached@example.fi>"),
        mail_samples.latin1(),
        mail_samples.malformed_header(),
        duplicate,
        duplicate,
        mail_samples.garbage(),
    ]
    answer = mail_samples.plain(
        message_id="<answer@hel.example.fi>", in_reply_to="<attached@example.fi>", body="Kiitos lomakkeesta."
    )
    dovecot.deliver(user, "INBOX", inbox)
    dovecot.deliver(user, "Sent", [answer])
    mailbox = mailbox_for(dovecot, dovecot_account)

    result = mailbox_poll(mailbox)

    assert (result.fetched, result.archived, result.skipped, result.errors) == (7, 6, 1, 0)
    rows = archived(mailbox)
    assert rows.count() == 6
    assert set(rows.values_list("intake", flat=True)) == {ContactCentreMessage.Intake.MAILBOX}
    assert rows.filter(direction=OUTGOING).get().internet_message_id == "answer@hel.example.fi"
    assert rows.filter(direction=INCOMING).count() == 5
    assert rows.filter(internet_message_id="twice@example.fi").count() == 1
    assert MessageAttachment.objects.filter(message__internet_message_id="attached@example.fi").count() == 1
    assert "Åke" in rows.get(internet_message_id="latin1-1@example.fi").sender
    assert rows.get(internet_message_id="malformed-1@example.fi").raw_size > 0
    garbage = rows.get(unreadable=True)
    with garbage.raw.open("rb") as stored:
        # Byte for byte as the server gives it (Dovecot stores the NUL bytes of the APPEND as 0x80).
        assert unseal(stored.read()) == dovecot.originals(user, "INBOX")[-1], "kept raw, never dropped"
    assert rows.get(internet_message_id="answer@hel.example.fi").thread_key == (
        rows.get(internet_message_id="attached@example.fi").thread_key
    )
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert mailbox.last_polled_at is not None


def test_a_second_poll_archives_nothing_and_a_new_message_is_picked_up(dovecot, dovecot_account):
    user = dovecot_account[0]
    dovecot.deliver(user, "INBOX", [mail_samples.plain(body=f"Viesti {n}") for n in range(3)])
    mailbox = mailbox_for(dovecot, dovecot_account)
    assert mailbox_poll(mailbox).archived == 3

    again = mailbox_poll(mailbox)
    assert (again.fetched, again.archived) == (0, 0)

    dovecot.deliver(user, "INBOX", [mail_samples.plain(message_id="<later@example.fi>")])
    later = mailbox_poll(mailbox)
    assert (later.fetched, later.archived) == (1, 1)
    assert archived(mailbox).filter(internet_message_id="later@example.fi").exists()
    assert archived(mailbox).count() == 4


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(dovecot, dovecot_account):
    user = dovecot_account[0]
    sent = [mail_samples.plain(body=f"Vastaus {n}") for n in range(3)]
    dovecot.deliver(user, "Sent", sent)
    mailbox = mailbox_for(dovecot, dovecot_account)
    mailbox_poll(mailbox)
    old = MailboxFolder.objects.get(mailbox=mailbox, name="Sent")
    assert old.last_uid == 3

    dovecot.folder_recreate(user, "Sent")
    # The same messages under new UIDs 1..3, and one more: UID 4 would look new under the old numbering,
    # 1..3 would look read.
    dovecot.deliver(user, "Sent", [*sent, mail_samples.plain(message_id="<after@example.fi>")])
    new_validity = dovecot.uid_validity(user, "Sent")
    assert new_validity != old.uid_validity

    result = mailbox_poll(mailbox)

    assert (result.fetched, result.archived, result.skipped) == (4, 1, 3)
    assert archived(mailbox).filter(direction=OUTGOING).count() == 4
    state = MailboxFolder.objects.get(mailbox=mailbox, name="Sent")
    assert (state.uid_validity, state.last_uid) == (new_validity, 4)


def test_without_a_processed_folder_the_mailbox_is_left_as_it_was(dovecot, dovecot_account):
    user = dovecot_account[0]
    dovecot.deliver(user, "INBOX", [mail_samples.plain(body="Luettu")], flags=[b"\\Seen"])
    dovecot.deliver(user, "INBOX", [mail_samples.plain(body="Lukematon"), mail_samples.plain(body="Toinen")])
    before = dovecot.flags(user, "INBOX")
    mailbox = mailbox_for(dovecot, dovecot_account)

    assert mailbox_poll(mailbox).archived == 3

    assert dovecot.flags(user, "INBOX") == before, "no \\Seen set or removed, nothing deleted"
    assert [b"\\Seen" in flags for flags in before.values()] == [True, False, False]


@pytest.mark.parametrize("server_moves", [True, False], ids=["move", "copy-and-expunge"])
def test_with_a_processed_folder_archived_messages_move_there(dovecot, dovecot_account, monkeypatch, server_moves):
    user = dovecot_account[0]
    with dovecot.client(user) as client:
        client.create_folder("Arkistoitu")
    dovecot.deliver(user, "INBOX", [mail_samples.plain(body=f"Siirrettävä {n}") for n in range(4)])
    if not server_moves:
        # A server without MOVE: COPY, \Deleted and UID EXPUNGE of exactly these messages.
        has_capability = imap.IMAPClient.has_capability
        monkeypatch.setattr(
            imap.IMAPClient, "has_capability", lambda self, name: name != "MOVE" and has_capability(self, name)
        )
    mailbox = mailbox_for(dovecot, dovecot_account, processed_folder="Arkistoitu")

    assert mailbox_poll(mailbox).archived == 4

    assert dovecot.uids(user, "INBOX") == []
    moved = dovecot.flags(user, "Arkistoitu")
    assert len(moved) == 4
    assert not any(b"\\Seen" in flags for flags in moved.values()), "still unread for the people who read the box"
    assert archived(mailbox).count() == 4
    assert mailbox_poll(mailbox).fetched == 0


@pytest.mark.parametrize("wrong", ["Väärä-salasana-123", "wrong-password-123"])
def test_a_wrong_password_is_reported_without_the_password(dovecot, dovecot_account, caplog, wrong):
    user = dovecot_account[0]
    dovecot.deliver(user, "INBOX", [mail_samples.plain()])
    mailbox = mailbox_for(dovecot, (user, wrong))
    caplog.set_level(logging.DEBUG)

    result = mailbox_poll(mailbox)

    assert result.errors == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == "The server refused the user name or the password."
    assert mailbox.last_polled_at is not None
    assert not archived(mailbox).exists()
    assert wrong not in caplog.text
    assert wrong not in mailbox.last_error
    assert f"Mailbox {mailbox.pk} could not be read" in caplog.text


def test_a_successful_poll_logs_neither_the_password_nor_the_message(dovecot, dovecot_account, caplog):
    user, password = dovecot_account
    dovecot.deliver(user, "INBOX", [mail_samples.plain(body="Salainen sisältö 4242")])
    mailbox = mailbox_for(dovecot, dovecot_account)
    caplog.set_level(logging.DEBUG)

    assert mailbox_poll(mailbox).archived == 1

    assert password not in caplog.text
    assert "4242" not in caplog.text
    assert "Kysymys laskusta" not in caplog.text


def test_a_password_with_letters_beyond_ascii_logs_in(dovecot):
    # IMAP LOGIN carries ASCII only; such a password goes by AUTHENTICATE PLAIN in UTF-8.
    account = dovecot.add_user(password="Hyvä-Åke-2026")
    dovecot.deliver(account[0], "INBOX", [mail_samples.plain()])
    mailbox = mailbox_for(dovecot, account)

    assert mailbox_poll(mailbox).archived == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_unreachable_servers_and_missing_folders_are_reported_and_the_rest_is_read(dovecot, dovecot_account):
    user = dovecot_account[0]
    dovecot.deliver(user, "INBOX", [mail_samples.plain()])
    missing = mailbox_for(dovecot, dovecot_account, sent_folder="Lähetetyt")
    refused = mailbox_for(dovecot, dovecot_account, name="refused", port=1)
    remote = mailbox_for(dovecot, dovecot_account, name="remote", host="imap.example.fi")

    for mailbox in (missing, refused, remote):
        mailbox_poll(mailbox)
        mailbox.refresh_from_db()

    assert missing.last_error == "The folder Lähetetyt does not exist on the server."
    assert archived(missing).count() == 1, "the incoming folder is read all the same"
    assert refused.last_error == "The server could not be reached."
    assert remote.last_error == "A connection without encryption is allowed only to a server on this machine."


def test_a_mailbox_archives_only_into_its_own_ordering_client(dovecot):
    same = mail_samples.plain(message_id="<both@example.fi>")
    account_x, account_y = dovecot.add_user(), dovecot.add_user()
    dovecot.deliver(account_x[0], "INBOX", [same, mail_samples.plain(message_id="<only-x@example.fi>")])
    dovecot.deliver(account_y[0], "INBOX", [same])
    client_x, client_y = OrderingClientFactory(), OrderingClientFactory()
    mailbox_x = mailbox_for(dovecot, account_x, ordering_client=client_x)
    mailbox_y = mailbox_for(dovecot, account_y, ordering_client=client_y)

    mailbox_poll(mailbox_x)
    mailbox_poll(mailbox_y)

    assert set(archived(mailbox_x).values_list("internet_message_id", flat=True)) == {
        "both@example.fi",
        "only-x@example.fi",
    }
    assert list(archived(mailbox_y).values_list("internet_message_id", flat=True)) == ["both@example.fi"]
    assert set(archived(mailbox_x).values_list("register", flat=True)) == {client_x.register_id}


def test_the_task_reads_only_the_mailboxes_that_are_due(dovecot, celery_eager):
    accounts = {name: dovecot.add_user() for name in ("due", "recent", "disabled", "former")}
    for name, (user, _password) in accounts.items():
        dovecot.deliver(user, "INBOX", [mail_samples.plain(message_id=f"<{name}@example.fi>")])
    due = mailbox_for(dovecot, accounts["due"], poll_minutes=5)
    recent = mailbox_for(dovecot, accounts["recent"], poll_minutes=5)
    disabled = mailbox_for(dovecot, accounts["disabled"], enabled=False)
    # Seed 004: messages are kept while the department is a client; a former client's mail is not read.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    former = mailbox_for(dovecot, accounts["former"], ordering_client=OrderingClientFactory(active_until=yesterday))
    read_at = timezone.now() - datetime.timedelta(minutes=2)
    Mailbox.objects.filter(pk=recent.pk).update(last_polled_at=read_at)
    Mailbox.objects.filter(pk=due.pk).update(last_polled_at=timezone.now() - datetime.timedelta(minutes=6))

    outcome = mailboxes_poll.delay().get()

    assert outcome == {"mailboxes": 1, "archived": 1, "errors": 0}
    assert archived(due).count() == 1
    assert not archived(recent).exists()
    assert not archived(disabled).exists()
    assert not archived(former).exists()
    recent.refresh_from_db()
    assert recent.last_polled_at == read_at


def test_a_batch_that_fails_midway_is_rolled_back_and_read_again(dovecot, dovecot_account, monkeypatch):
    user = dovecot_account[0]
    dovecot.deliver(user, "INBOX", [mail_samples.plain(body=f"Viesti {n}") for n in range(4)])
    mailbox = mailbox_for(dovecot, dovecot_account, sent_folder="")
    real_entries = archive.services._audit_entries

    def failing(*args, **kwargs):
        # After the batch's messages and attachments were inserted: the rows must go with the failure.
        raise OSError("disk full")

    monkeypatch.setattr(archive.services, "_audit_entries", failing)
    failed = mailbox_poll(mailbox)

    mailbox.refresh_from_db()
    assert mailbox.last_error == "A message could not be archived; it will be tried again on the next read."
    assert failed.archived == 0
    assert not archived(mailbox).exists(), "the batch is archived whole or not at all"
    assert MailboxFolder.objects.get(mailbox=mailbox).last_uid == 0

    monkeypatch.setattr(archive.services, "_audit_entries", real_entries)
    assert mailbox_poll(mailbox).archived == 4
    assert archived(mailbox).count() == 4


@contextlib.contextmanager
def read_by_another_worker(mailbox):
    """Hold the mailbox's poll lock as another worker process would: on its own database connection."""
    if connection.vendor != "postgresql":
        with imap._mailbox_lock(mailbox) as held:
            assert held
            yield
        return
    with advisory_lock_held_elsewhere(imap._LOCK_NAMESPACE, mailbox.pk):
        yield


def test_a_mailbox_being_read_by_another_worker_is_skipped(dovecot, dovecot_account):
    dovecot.deliver(dovecot_account[0], "INBOX", [mail_samples.plain()])
    mailbox = mailbox_for(dovecot, dovecot_account)
    with read_by_another_worker(mailbox):
        result = mailbox_poll(mailbox)
    assert result.busy
    assert not archived(mailbox).exists()
    assert mailbox_poll(mailbox).archived == 1, "the lock is released when the other worker is done"


def test_reading_a_mailbox_costs_a_constant_number_of_queries_per_batch(dovecot, settings):
    """Archiving included: each batch costs the same, however many messages it holds."""
    settings.ARCHIVE_FETCH_BATCH = 5

    def queries(count: int) -> int:
        account = dovecot.add_user()
        dovecot.deliver(
            account[0],
            "INBOX",
            [mail_samples.plain(body=f"Viesti {n}", in_reply_to="<root@example.fi>") for n in range(count)],
        )
        mailbox = mailbox_for(dovecot, account, sent_folder="")
        with CaptureQueriesContext(connection) as context:
            assert mailbox_poll(mailbox).archived == count
        return len(context.captured_queries)

    one_batch, two_batches, four_batches = queries(5), queries(10), queries(20)
    per_batch = two_batches - one_batch
    assert four_batches - two_batches == 2 * per_batch, "nothing per message"
    # Two look-ups, three inserts (messages, attachments, audit entries), the folder's last UID and the
    # batch's transaction; the audit entries' links in the audit chain (4: head, entries read back, links, head).
    assert per_batch <= 9 + 4
