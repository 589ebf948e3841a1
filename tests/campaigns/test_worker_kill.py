"""A Celery worker killed in the middle of a campaign, then the beat's resume: nobody gets a message twice.

The worker is a real `celery worker` process against the test database and a Redis broker, sending to the test's
SMTP sink; it is killed with SIGKILL (no cleanup, its connection simply vanishes, and with it the campaign's
advisory lock). A second worker then runs `campaigns_resume`, as the beat would. The batch that was in flight
is the at-most-once choice of campaigns.sending: its rows are marked failed (outcome unknown), never resent.
"""

import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient

from .factories import campaign_draft, marketing_register, person, sender

BASE_DIR = Path(settings.BASE_DIR)
RECIPIENTS = 400
BATCH = 10
BROKER = os.environ.get("CAMPAIGN_TEST_BROKER", "redis://127.0.0.1:6379/14")

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the worker runs in another process against the test database (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker(prefix: str, smtp_port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": BROKER,
        # Queues of the test's own (config.task_routes): the resume's sends go to its mail queue.
        "CELERY_QUEUE_PREFIX": prefix,
        "CAMPAIGN_SEND_BATCH": str(BATCH),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    queues = ",".join(f"{prefix}{kind}" for kind in settings.CELERY_QUEUE_KINDS)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queues]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]
    return subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for(condition, *, timeout: float, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the worker ended: {process.stderr.read().decode()[-3000:]}"
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_worker_killed_mid_send_sends_nobody_twice(smtp_sink, monkeypatch):
    register = marketing_register()
    actor = sender(register)
    for n in range(RECIPIENTS):
        person(register, email=f"p{n:04d}@example.fi")
    # The test hands the task to the worker itself (the test process has no broker of its own).
    monkeypatch.setattr(services, "_send_later", lambda pk: None)
    campaign = campaign_draft(actor=actor, register=register, rate_per_minute=12_000)
    services.campaign_queue(actor=actor, campaign=campaign)
    prefix = f"campaigns-test-{uuid.uuid4().hex}-"
    queue = f"{prefix}mail"
    # Not the current app: the tasks of later tests (the purge worker's) must still go to the project's broker.
    app = Celery(broker=BROKER, set_as_current=False)

    first = worker(prefix, smtp_sink.port)
    try:
        app.send_task("campaigns.tasks.campaign_send", args=[campaign.pk], queue=queue)
        wait_for(lambda: len(smtp_sink.messages) >= 5 * BATCH + 3, timeout=120, process=first, what="nothing sent")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = len(smtp_sink.messages)
    assert killed_at < RECIPIENTS, "killed too late to prove anything"
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.SENDING

    second = worker(prefix, smtp_sink.port)
    try:
        app.send_task("campaigns.tasks.campaigns_resume", queue=queue)
        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).state == Campaign.State.SENT,
            timeout=180,
            process=second,
            what="the campaign was not finished",
        )
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    received = collections.Counter(address for message in smtp_sink.messages for address in message["to"])
    assert max(received.values()) == 1, "nobody gets a message twice"
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    sent = set(rows.filter(state=CampaignRecipient.State.SENT).values_list("email", flat=True))
    failed = rows.filter(state=CampaignRecipient.State.FAILED)
    assert sent <= set(received), "every message recorded as sent reached the server"
    assert len(sent) + failed.count() == RECIPIENTS, "every recipient is sent or accounted for"
    # At most the one batch in flight is of unknown outcome; none of it was sent again.
    assert failed.count() <= BATCH
    assert set(failed.values_list("skip_reason", flat=True)) <= {"unknown_outcome"}
    assert set(received) - sent <= set(failed.values_list("email", flat=True))
