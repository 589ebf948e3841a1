import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def _test_database_url() -> str:
    """Return DATABASE_URL pointing at the database pytest-django created for this worker."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


def broker_url() -> str:
    """Return a Redis database of its own for the test broker.

    Tests that clear the Django cache flush REDIS_URL's database, which would
    drop the broker's queue bindings and messages mid-test; TEST_CELERY_BROKER_URL
    overrides the default (the database numbered one below REDIS_URL's).
    """
    if os.environ.get("TEST_CELERY_BROKER_URL"):
        return os.environ["TEST_CELERY_BROKER_URL"]
    parts = urlsplit(os.environ["REDIS_URL"])
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{database - 1 if database else 1}"))


@contextlib.contextmanager
def broker_for_tests(url: str | None = None):
    """Point this process's Celery app at the test broker (or the broker at `url`), and back afterwards."""
    from config.celery import app

    def reset():
        # Connection and producer pools are cached per broker URL.
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    app.conf.broker_url = url or broker_url()
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url = previous
        reset()


def send(task, *, queue: str):
    """Enqueue `task` on the test broker for the worker consuming `queue`."""
    with broker_for_tests():
        return task.apply_async(queue=queue)


def queues_of(prefix: str) -> list[str]:
    """Return the queue of each kind of work (config.task_routes) under CELERY_QUEUE_PREFIX `prefix`."""
    return [f"{prefix}{kind}" for kind in settings.CELERY_QUEUE_KINDS]


# `celery -A config ...` with broker transport options of the test's own: settings.py sets none from the environment.
WITH_TRANSPORT_OPTIONS = (
    "import json, os, sys; from config.celery import app; "
    "app.conf.broker_transport_options = json.loads(os.environ['TEST_TRANSPORT_OPTIONS']); app.start(sys.argv[1:])"
)


def celery_process(
    *args: str, queue: str, log_dir: Path, env: dict[str, str] | None = None, transport_options: dict | None = None
) -> subprocess.Popen:
    """Start a celery command on the test database and test broker, writing its output to `log_dir`.

    `queue` is the default queue of the test's queues (the `celery_queue` fixture's): the process routes each task
    to the queue of its kind under the same prefix.
    """
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": broker_url(),
        "CELERY_QUEUE_PREFIX": queue.removesuffix("default"),
        **(env or {}),
    }
    command = [CELERY, "-A", "config", *args]
    if transport_options is not None:
        command = [sys.executable, "-c", WITH_TRANSPORT_OPTIONS, *args]
        env["TEST_TRANSPORT_OPTIONS"] = json.dumps(transport_options)
    log = open(log_dir / f"{args[0]}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def celery_queue(django_db_setup, worker_id, tmp_path_factory):
    """A real Celery worker on the real Redis broker, consuming queues of its own: yields their default queue.

    The worker consumes every kind of work's queue under a prefix of the test's own (CELERY_QUEUE_PREFIX), so
    the tasks its tasks start reach it too. It reads and writes the test database, so tests that use it need
    `django_db(transaction=True)` for the worker to see their rows. One worker
    per test: the flush between transactional tests recreates content types
    under new ids, which a longer-lived worker would still hold in its cache.
    """
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL (CI sets both); SQLite quick runs skip it")
    prefix = f"test-{worker_id}-{uuid.uuid4().hex[:8]}-"
    queue = f"{prefix}default"
    name = f"{prefix}worker@localhost"
    log_dir = tmp_path_factory.mktemp("celery")
    worker = celery_process(
        "worker",
        "--pool=solo",
        "-Q",
        ",".join(queues_of(prefix)),
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
        queue=queue,
        log_dir=log_dir,
    )
    try:
        deadline = time.monotonic() + 60
        with broker_for_tests() as app:
            while not app.control.ping(destination=[name], timeout=1):
                if worker.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Celery worker did not start:\n{(log_dir / 'worker.log').read_text()}")
        yield queue
    finally:
        stop(worker)
        # Leave nothing queued for a later run: the queues and their bindings (kombu's queue_delete would delete
        # only what this process itself declared).
        client = redis.Redis.from_url(broker_url())
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()


def wait_for(condition, *, timeout: float = 45, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def english(settings):
    """Serve the UI in English, so assertions read like the source strings."""
    settings.LANGUAGE_CODE = "en"
