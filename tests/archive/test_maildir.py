"""The server-side Maildir drop: each ordering client's in/ and out/ read once, messages marked seen, none deleted."""

import mailbox
from unittest import mock

import pytest
from django.core.management import call_command

from archive import maildir
from archive.maildir import maildir_read_all
from crm.models import ContactCentreMessage
from tests.factories import OrderingClientFactory

from . import mail_samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def root(tmp_path, settings):
    settings.ARCHIVE_MAILDIR_ROOT = tmp_path / "maildrop"
    settings.ARCHIVE_MAILDIR_ROOT.mkdir()
    return settings.ARCHIVE_MAILDIR_ROOT


def new_maildir(path) -> mailbox.Maildir:
    path.parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, create=True)


def drop(root, client, direction: str) -> mailbox.Maildir:
    return new_maildir(root / str(client.code) / direction)


def files(root, client, direction: str, sub: str) -> list[str]:
    return sorted(path.name for path in (root / str(client.code) / direction / sub).iterdir())


def test_new_messages_are_archived_in_their_direction_and_marked_seen(root):
    client = OrderingClientFactory()
    incoming, outgoing = drop(root, client, "in"), drop(root, client, "out")
    incoming.add(mail_samples.plain(subject="Kysymys", message_id="<q@example.fi>"))
    incoming.add(mail_samples.with_attachments())
    outgoing.add(mail_samples.plain(subject="Vastaus", message_id="<a@example.fi>"))

    summary = maildir_read_all()

    assert (summary.archived, summary.already, summary.unreadable) == (3, 0, 0)
    assert ContactCentreMessage.objects.get(internet_message_id="q@example.fi").direction == "in"
    assert ContactCentreMessage.objects.get(internet_message_id="a@example.fi").direction == "out"
    assert set(ContactCentreMessage.objects.values_list("intake", flat=True)) == {"maildir"}
    assert set(ContactCentreMessage.objects.values_list("ordering_client", flat=True)) == {client.pk}
    # Marked read the standard way: in cur/ with the S flag, nothing deleted.
    assert files(root, client, "in", "new") == []
    assert len(files(root, client, "in", "cur")) == 2
    assert all(name.endswith(":2,S") for name in files(root, client, "in", "cur"))
    assert all("S" in message.get_flags() for message in incoming)


def test_a_second_run_reads_nothing_again(root):
    client = OrderingClientFactory()
    drop(root, client, "in").add(mail_samples.plain())
    maildir_read_all()
    summary = maildir_read_all()
    assert (summary.archived, summary.already) == (0, 0)
    assert ContactCentreMessage.objects.count() == 1


def test_a_cur_message_without_the_seen_flag_is_read_and_one_with_it_is_not(root):
    client = OrderingClientFactory()
    box = drop(root, client, "in")
    unseen = mailbox.MaildirMessage(mail_samples.plain(subject="Ei luettu"))
    unseen.set_subdir("cur")
    seen = mailbox.MaildirMessage(mail_samples.plain(subject="Jo luettu"))
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(unseen)
    box.add(seen)
    maildir_read_all()
    assert list(ContactCentreMessage.objects.values_list("subject", flat=True)) == ["Ei luettu"]


def test_a_crash_between_archiving_and_marking_seen_archives_nothing_twice(root):
    client = OrderingClientFactory()
    box = drop(root, client, "in")
    box.add(mail_samples.plain(message_id="<crash@example.fi>"))
    with (
        mock.patch.object(maildir, "_mark_seen", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        maildir_read_all()
    assert ContactCentreMessage.objects.count() == 1
    assert len(files(root, client, "in", "new")) == 1, "the message was not marked seen"

    summary = maildir_read_all()

    assert (summary.archived, summary.already) == (0, 1)
    assert ContactCentreMessage.objects.count() == 1
    assert files(root, client, "in", "new") == []


def test_an_unreadable_message_is_kept_raw_and_flagged(root):
    client = OrderingClientFactory()
    drop(root, client, "in").add(mail_samples.garbage())
    summary = maildir_read_all()
    assert summary.unreadable == 1
    assert ContactCentreMessage.objects.get().unreadable


def test_unknown_folders_are_reported_and_skipped(root):
    client = OrderingClientFactory()
    drop(root, client, "in").add(mail_samples.plain())
    new_maildir(root / "not-a-code" / "in").add(mail_samples.plain())
    unknown_code = "6f1c2f0e-8f7e-4a59-9d1a-9c3bd1c4a001"
    new_maildir(root / unknown_code / "in").add(mail_samples.plain())
    new_maildir(root / str(client.code) / "spam").add(mail_samples.plain())
    (root / str(client.code) / "out").mkdir()
    summary = maildir_read_all()
    assert summary.archived == 1
    assert any(problem.startswith("not-a-code:") for problem in summary.problems)
    assert any(problem.startswith(f"{unknown_code}:") for problem in summary.problems)
    assert any(problem.startswith(f"{client.code}/spam:") for problem in summary.problems)
    assert any(problem.startswith(f"{client.code}/out:") for problem in summary.problems)
    assert ContactCentreMessage.objects.count() == 1


def test_messages_go_only_to_the_client_named_by_the_folder(root):
    first, second = OrderingClientFactory(), OrderingClientFactory()
    drop(root, first, "in").add(mail_samples.plain(message_id="<first@example.fi>"))
    drop(root, second, "in").add(mail_samples.plain(message_id="<second@example.fi>"))
    maildir_read_all()
    assert ContactCentreMessage.objects.get(internet_message_id="first@example.fi").ordering_client == first
    assert ContactCentreMessage.objects.get(internet_message_id="second@example.fi").ordering_client == second


def test_the_command_reads_another_root_and_prints_counts(tmp_path, capsys):
    client = OrderingClientFactory()
    other = tmp_path / "elsewhere"
    drop(other, client, "in").add(mail_samples.plain())
    call_command("archive_maildir", "--root", str(other))
    out = capsys.readouterr().out
    assert "Archived 1" in out
    assert ContactCentreMessage.objects.count() == 1


def test_a_missing_root_is_reported_not_raised(tmp_path):
    summary = maildir_read_all(root=tmp_path / "missing")
    assert summary.problems
    assert ContactCentreMessage.objects.count() == 0
