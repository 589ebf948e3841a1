"""Benchmark reading a mailbox into the contact-centre archive (issue 17; target: 10,000 messages from a local
Dovecot in <= 120 s, with a constant number of queries per batch).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_archive \\
        .venv/bin/python bench/archive_ingest.py [--messages 10000] [--batch 100]

On demand, never in CI; needs Debian's dovecot-imapd. The script starts a Dovecot of its own on a free
loopback port (tests/archive/dovecot.py, a throw-away configuration and Maildir under a temporary folder),
APPENDs the messages to one account's INBOX in batches (90 % plain messages with varied bodies, 5 % with a
PDF attachment, 5 % replies), then runs the real poller, `archive.imap.mailbox_poll`, in this process, with
originals and attachments sealed into a temporary media folder. It prints the seconds and messages per
second of the delivery and of the ingestion, then the queries of reading one more batch and three more.
The database is migrated if needed; each run adds an ordering client of its own.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEDIA = Path(tempfile.mkdtemp(prefix="rekisteri-bench-archive-media-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for name, value in {
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "TOTP_ENCRYPTION_KEY": "dGVzdC10b3RwLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=",
    "ARCHIVE_ENCRYPTION_KEY": "dGVzdC1hcmNoaXZlLWtleS1ub3QtZm9yLXByb2R1Y3Q=",
    "ALLOWED_HOSTS": "localhost,testserver",
    "SITE_URL": "http://localhost",
    "HTTPS": "false",
    "MEDIA_ROOT": str(MEDIA),
}.items():
    os.environ.setdefault(name, value)

WORDS = [
    "lasku",
    "väärin",
    "maksu",
    "eräpäivä",
    "muistutus",
    "pysäköinti",
    "asukaspysäköinti",
    "tunnus",
    "hakemus",
    "päätös",
    "kirjasto",
    "laina",
    "uimahalli",
    "kausikortti",
    "jäte",
    "nouto",
    "katu",
    "valaistus",
    "lumi",
    "aurauskiitos",
    "kiitos",
    "palaute",
    "ajanvaraus",
    "neuvola",
]


def messages(count: int) -> list[bytes]:
    from tests.archive import mail_samples

    out = []
    for n in range(count):
        body = " ".join(WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(40 + n % 60))
        message_id = f"<bench-{n}-{time.time_ns()}@example.fi>"
        if n % 20 == 0:
            out.append(mail_samples.with_attachments(body=body, message_id=message_id))
        elif n % 20 == 1 and out:
            out.append(mail_samples.plain(body=body, message_id=message_id, in_reply_to=f"<bench-{n - 1}@x>"))
        else:
            out.append(mail_samples.plain(subject=f"Kysymys {n}", body=body, message_id=message_id))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, help="ARCHIVE_FETCH_BATCH (default: the setting)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    import archive.imap
    from archive.models import Mailbox
    from crm.models import ContactCentreMessage
    from tests.archive.dovecot import NOT_INSTALLED, Dovecot, installed
    from tests.factories import ContactCentreRegisterFactory, OrderingClientFactory

    if not installed():
        sys.exit(NOT_INSTALLED)
    if args.batch:
        settings.ARCHIVE_FETCH_BATCH = args.batch
    batch = settings.ARCHIVE_FETCH_BATCH
    server = Dovecot().start()
    try:
        user, password = server.add_user()
        raws = messages(args.messages)
        size = sum(len(raw) for raw in raws)
        started = time.perf_counter()
        server.deliver(user, "INBOX", raws, batch=500)
        seconds = time.perf_counter() - started
        print(f"delivered {len(raws)} messages ({size / 1e6:.1f} MB) by APPEND in {seconds:.1f} s")

        stamp = time.time_ns()
        register = ContactCentreRegisterFactory(slug=f"bench-archive-{stamp}", name_fi=f"Arkistokoe {stamp}")
        client = OrderingClientFactory(register=register, department=f"Arkistokoe {stamp}")
        mailbox = Mailbox(
            ordering_client=client,
            name="bench",
            host=server.host,
            port=server.port,
            security=Mailbox.Security.PLAIN,
            username=user,
            sent_folder="",
        )
        mailbox.set_password(password)
        mailbox.full_clean()
        mailbox.save()

        started = time.perf_counter()
        result = archive.imap.mailbox_poll(mailbox)
        seconds = time.perf_counter() - started
        archived = ContactCentreMessage.objects.filter(ordering_client=client).count()
        print(
            f"ingested {result.fetched} messages in batches of {batch}: {seconds:.1f} s, "
            f"{result.fetched / seconds:.0f} messages/s; archived {result.archived}, rows {archived}, "
            f"problems {result.errors} {result.problems or ''} (target <= 120 s for 10,000)"
        )

        # One more batch, then three, their queries counted: the difference is the cost of a batch.
        counts = []
        for batches in (1, 3):
            server.deliver(user, "INBOX", messages(batch * batches))
            with CaptureQueriesContext(connection) as captured:
                result = archive.imap.mailbox_poll(mailbox)
            counts.append((result.fetched, len(captured.captured_queries)))
        (one, one_queries), (three, three_queries) = counts
        print(
            f"queries: {one_queries} to read {one} messages, {three_queries} to read {three}: "
            f"{(three_queries - one_queries) / 2:.0f} per further batch of {batch}, whatever it holds"
        )
    finally:
        server.stop()
        shutil.rmtree(MEDIA, ignore_errors=True)


if __name__ == "__main__":
    main()
