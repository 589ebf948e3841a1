"""Benchmark a campaign (issue 18; target: 20,000 messages to a local SMTP sink queued in <= 30 s, sent at the
configured rate, none twice after a worker is killed mid-send).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_campaigns \\
        .venv/bin/python bench/campaigns.py [--recipients 20000] [--rate 12000] [--batch 100] [--kill-at 0.4]

On demand, never in CI; needs PostgreSQL and Redis (the Celery broker, REDIS_URL, default
redis://127.0.0.1:6379/14). The script makes a register that allows direct marketing with N person customers (5 %
objecting, 2 % restricted, 1 % without an address, so the exclusions are counted too), queues a campaign to the
whole register through `campaigns.services.campaign_queue` and times it with its query count, then starts a real
`celery worker` (solo pool) sending to an aiosmtpd sink in this process, kills it with SIGKILL once `--kill-at`
of the messages have arrived, starts a second worker and sends `campaigns_resume` as the beat would, and waits
for the campaign to finish. It prints the send rate of each worker against the configured rate and checks that
no address received two messages (the batch in flight at the kill is marked failed, never resent).
"""

import argparse
import collections
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for name, value in {
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "TOTP_ENCRYPTION_KEY": "dGVzdC10b3RwLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=",
    "ARCHIVE_ENCRYPTION_KEY": "dGVzdC1hcmNoaXZlLWtleS1ub3QtZm9yLXByb2R1Y3Q=",
    "ALLOWED_HOSTS": "localhost,testserver",
    "SITE_URL": "http://localhost",
    "HTTPS": "false",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
}.items():
    os.environ.setdefault(name, value)


class Sink:
    def __init__(self):
        self.lock = threading.Lock()
        self.received = collections.Counter()
        self.times: list[float] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        now = time.monotonic()
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received[address] += 1
            self.times.append(now)
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.times)


def worker(prefix: str, smtp_port: int, batch: int) -> subprocess.Popen:
    from django.conf import settings

    env = {
        **os.environ,
        # Queues of this run's own (config.task_routes): the resume's sends go to its mail queue.
        "CELERY_QUEUE_PREFIX": prefix,
        "CAMPAIGN_SEND_BATCH": str(batch),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    queues = ",".join(f"{prefix}{kind}" for kind in settings.CELERY_QUEUE_KINDS)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queues]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True)


def rate_per_minute(times: list[float]) -> float:
    if len(times) < 2:
        return 0.0
    return 60 * (len(times) - 1) / (times[-1] - times[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=12_000, help="the campaign's messages per minute")
    parser.add_argument("--batch", type=int, default=100, help="CAMPAIGN_SEND_BATCH")
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of the messages sent before the kill")
    args = parser.parse_args()

    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from celery import Celery
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from campaigns import services
    from campaigns.models import Campaign, CampaignRecipient
    from crm.models import Customer
    from registers.models import Role
    from tests.archive.dovecot import _free_port
    from tests.conftest import grant
    from tests.factories import RegisterFactory, UserFactory

    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    register = RegisterFactory(slug=f"bench-campaigns-{run}", direct_marketing=True)
    actor = UserFactory(username=f"bench-sender-{run}", email=f"sender-{run}@example.fi")
    grant(actor, register, Role.HANDLER, actor=UserFactory(username=f"bench-grantor-{run}", is_superuser=True))
    started = time.monotonic()
    customers = []
    for n in range(args.recipients):
        customers.append(
            Customer(
                register=register,
                kind=Customer.Kind.PERSON,
                first_name="Testi",
                last_name=f"Henkilö {n}",
                email="" if n % 100 == 7 else f"r{n:06d}.{run}@example.fi",
                language=("fi", "sv", "en")[n % 3],
                marketing_objection=n % 20 == 3,
                processing_restricted=n % 50 == 11,
            )
        )
    Customer.objects.bulk_create(customers, batch_size=5000)
    print(f"{args.recipients} customers made in {time.monotonic() - started:.1f} s")

    services._send_later = lambda pk: None  # the bench hands the task to its worker itself
    campaign = services.campaign_create(
        actor=actor,
        register=register,
        data={
            "name": f"Bench {run}",
            "audience": Campaign.Audience.PERSONS,
            "subject_fi": "Tervetuloa messuille",
            "body_fi": "Hei!\n\nTervetuloa messuille.\n" * 5,
            "subject_sv": "Välkommen till mässan",
            "body_sv": "Hej!\n\nVälkommen till mässan.\n" * 5,
            "rate_per_minute": args.rate,
        },
    )
    with CaptureQueriesContext(connection) as queries:
        started = time.monotonic()
        services.campaign_queue(actor=actor, campaign=campaign)
        queued_seconds = time.monotonic() - started
    campaign.refresh_from_db()
    total = campaign.recipients.count()
    print(
        f"queued {total} recipients in {queued_seconds:.1f} s with {len(queries)} queries "
        f"(left out: {campaign.exclusions})"
    )

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    prefix = f"bench-campaigns-{run}-"
    queue = f"{prefix}mail"
    app = Celery(broker=settings.CELERY_BROKER_URL)
    kill_at = int(total * args.kill_at)
    first = worker(prefix, controller.port, args.batch)
    app.send_task("campaigns.tasks.campaign_send", args=[campaign.pk], queue=queue)
    while sink.count() < kill_at:
        assert first.poll() is None, "the first worker ended"
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    time.sleep(0.5)
    first_times = list(sink.times)
    print(
        f"worker 1 killed after {len(first_times)} messages: {rate_per_minute(first_times):.0f}/min "
        f"(configured {args.rate}/min)"
    )

    second = worker(prefix, controller.port, args.batch)
    resumed = time.monotonic()
    app.send_task("campaigns.tasks.campaigns_resume", queue=queue)
    while Campaign.objects.get(pk=campaign.pk).state != Campaign.State.SENT:
        assert second.poll() is None, "the second worker ended"
        time.sleep(0.2)
    os.killpg(second.pid, signal.SIGTERM)
    second.wait()
    controller.stop()
    second_times = [t for t in sink.times if t >= resumed]
    print(
        f"worker 2 (resume) sent {len(second_times)} messages: {rate_per_minute(second_times):.0f}/min "
        f"(configured {args.rate}/min)"
    )
    rows = dict(
        CampaignRecipient.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("pk")).order_by()
    )
    twice = sum(1 for count in sink.received.values() if count > 1)
    print(f"recipients by state: {rows}")
    print(f"addresses that received a message: {len(sink.received)}; received two or more: {twice}")
    assert twice == 0, "somebody got a message twice"


if __name__ == "__main__":
    main()
