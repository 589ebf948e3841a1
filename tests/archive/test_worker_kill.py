"""A poller killed in the middle of a mailbox, then run again: no message lost, none archived twice.

The poller runs as `manage.py archive_poll` in a process of its own against the test database (so the test
runs its data in committed transactions) and is killed with SIGKILL: no cleanup, no rollback handler, a
connection that simply vanishes, as when a worker's machine dies.
"""

import email
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from archive.models import MailboxFolder
from crm.models import ContactCentreMessage

from . import mail_samples
from .conftest import mailbox_for

BASE_DIR = Path(settings.BASE_DIR)
MESSAGES = 300
BATCH = 20

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the poller runs in another process against the test database (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def poller(mailbox, media) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media),
        "ARCHIVE_FETCH_BATCH": str(BATCH),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "archive_poll", "--mailbox", str(mailbox.pk)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_poller_killed_mid_mailbox_loses_nothing_and_duplicates_nothing(dovecot, dovecot_account, media):
    user = dovecot_account[0]
    delivered = [mail_samples.plain(body=f"Viesti numero {n}") for n in range(MESSAGES)]
    dovecot.deliver(user, "INBOX", delivered)
    mailbox = mailbox_for(dovecot, dovecot_account, sent_folder="")
    archived = ContactCentreMessage.objects.filter(ordering_client=mailbox.ordering_client)

    first = poller(mailbox, media)
    deadline = time.monotonic() + 120
    while archived.count() < 2 * BATCH + 5:
        assert first.poll() is None, f"the poller ended before it was killed: {first.communicate()}"
        assert time.monotonic() < deadline, "the poller archived nothing"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = archived.count()
    assert killed_at < MESSAGES, "killed too late to prove anything"
    # The folder's last UID trails what is archived: the batch in flight was archived but not yet recorded.
    assert MailboxFolder.objects.get(mailbox=mailbox).last_uid <= killed_at

    second = poller(mailbox, media)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, (out, err)
    # The advisory lock of the killed process went with its connection: the second run read the mailbox.
    assert b"another worker" not in out

    assert archived.count() == MESSAGES
    assert not archived.values("raw_sha256").annotate(n=Count("pk")).filter(n__gt=1).exists(), "none twice"
    assert archived.values("raw_sha256").distinct().count() == MESSAGES
    expected = {email.message_from_bytes(raw)["Message-ID"].strip("<>") for raw in delivered}
    assert set(archived.values_list("internet_message_id", flat=True)) == expected, "none lost"
    assert MailboxFolder.objects.get(mailbox=mailbox).last_uid == MESSAGES
