"""Fixtures of the operations tests: a Redis broker of the test's own, and a broker that is down."""

import os
import socket
import uuid

import pytest
import redis


def closed_port() -> int:
    """Return a loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _queues(prefix: str) -> dict[str, str]:
    from django.conf import settings

    return {kind: f"{prefix}{kind}" for kind in settings.CELERY_QUEUE_KINDS}


@pytest.fixture
def redis_broker(settings):
    """Point the broker settings at REDIS_URL's Redis, with a queue prefix of the test's own; yield a client.

    The prefix keeps the test's queues and failure counts apart from every other test process sharing that
    Redis; its keys are deleted afterwards (never the whole database, which others use).
    """
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL (CI sets it); SQLite quick runs skip it")
    prefix = f"test-ops-{uuid.uuid4().hex[:8]}:"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_QUEUE_PREFIX = prefix
    settings.CELERY_QUEUES_BY_KIND = _queues(prefix)
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def broker_down(settings):
    """A Redis broker that refuses every connection."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CELERY_QUEUE_PREFIX = "test-ops-down:"
    settings.CELERY_QUEUES_BY_KIND = _queues("test-ops-down:")


@pytest.fixture
def broker_in_memory(settings):
    """Tasks run in the process: there is no broker (the quick start)."""
    settings.CELERY_BROKER_URL = "memory://"
