"""The purge through a real Celery worker and Redis broker, including a worker killed halfway."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from crm.models import ContactPerson, Customer, Interaction, Invoice
from privacy.retention.models import PurgeCount, PurgeRun
from privacy.retention.purge import purge_run_task

from ..retention_helpers import idle_customer

BASE_DIR = Path(settings.BASE_DIR)
needs_broker = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql", reason="needs Redis and PostgreSQL"
)


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, *, prefix: str, batch_size: int, lock_seconds: int):
        # The purge queue of the test's own queues (CELERY_QUEUE_PREFIX); the worker consumes all of them.
        self.queue = f"{prefix}purge"
        self.name = f"purge-{uuid.uuid4().hex[:8]}@localhost"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_QUEUE_PREFIX": prefix,
            "PURGE_BATCH_SIZE": str(batch_size),
            "PURGE_LOCK_TIMEOUT_SECONDS": str(lock_seconds),
        }
        queues = ",".join(f"{prefix}{kind}" for kind in settings.CELERY_QUEUE_KINDS)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queues, "-n", self.name],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=0.5):
            assert self.process.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker did not start"

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_factory():
    workers = []
    prefix = f"purge-test-{uuid.uuid4().hex[:8]}-"

    def start(**kwargs) -> Worker:
        worker = Worker(prefix=prefix, **kwargs)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_scheduled_purge(register_a, worker_factory):
    idle = idle_customer(register_a)
    worker = worker_factory(batch_size=200, lock_seconds=60)
    purge_run_task.apply_async(queue=worker.queue)
    wait_for(lambda: PurgeRun.objects.filter(status=PurgeRun.Status.COMPLETED).exists())
    assert not Customer.objects.filter(pk=idle.pk).exists()
    assert PurgeRun.objects.get().trigger == PurgeRun.Trigger.SCHEDULE


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_whole_customers_and_the_next_run_completes(register_a, worker_factory):
    customers = [idle_customer(register_a).pk for _ in range(150)]
    first = worker_factory(batch_size=1, lock_seconds=2)
    purge_run_task.apply_async(queue=first.queue)
    wait_for(lambda: PurgeCount.objects.filter(purged__gte=5).exists())
    first.kill()

    killed = PurgeRun.objects.get()
    assert killed.status == PurgeRun.Status.RUNNING
    remaining = list(Customer.objects.values_list("pk", flat=True))
    assert 0 < len(remaining) < len(customers)
    # Every customer is either gone with all it had, or still there with all it had.
    for pk in remaining:
        assert ContactPerson.objects.filter(customer_id=pk).count() == 1
        assert Interaction.objects.filter(customer_id=pk).count() == 2
        assert Invoice.objects.filter(customer_id=pk).count() == 1
    assert not Interaction.objects.exclude(customer_id__in=remaining).exists()

    # The killed run's lock expires on its own; the next run then finishes the work.
    time.sleep(2.5)
    second = worker_factory(batch_size=50, lock_seconds=60)
    purge_run_task.apply_async(queue=second.queue)
    wait_for(lambda: PurgeRun.objects.filter(status=PurgeRun.Status.COMPLETED).exists())
    killed.refresh_from_db()
    assert killed.status == PurgeRun.Status.INTERRUPTED
    assert not Customer.objects.filter(register=register_a).exists()
    assert not Interaction.objects.exists()
