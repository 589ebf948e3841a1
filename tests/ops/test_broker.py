"""The broker as ops reaches it (ops.broker) when it is found through Sentinels, as on several machines.

A throw-away Redis server and a Sentinel watching it (tests/registers/redis_servers.py); the broker's URL and
transport options are those settings.py builds from a sentinel:// CELERY_BROKER_URL.
"""

import time

import pytest
import redis

from ops import broker
from ops.metrics import broker_metrics, task_failure_count

from ..registers.redis_servers import redis_server


@pytest.fixture
def sentinel_broker(settings, tmp_path):
    """Point the broker at a Sentinel; yield a client of the server it names."""
    name = settings.REDIS_SENTINEL_MASTER
    with redis_server(tmp_path) as (master, _), redis_server(tmp_path, sentinel_for=(name, master)) as (port, _):
        asking = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
        deadline = time.monotonic() + 10
        while asking.sentinel_master(name)["port"] != master:
            assert time.monotonic() < deadline, "the Sentinel does not name the master"
            time.sleep(0.05)
        settings.CELERY_BROKER_URL = f"sentinel://127.0.0.1:{port}/0"
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"master_name": name}
        settings.CELERY_QUEUES_BY_KIND = {kind: kind for kind in settings.CELERY_QUEUE_KINDS}
        settings.CELERY_QUEUE_PREFIX = ""
        yield redis.Redis(port=master, socket_timeout=1)


class FailedTask:
    name = "tests.ops.fails_on_a_worker"


def test_the_queues_and_failures_are_read_from_the_master_the_sentinel_names(sentinel_broker):
    broker.check()
    sentinel_broker.lpush("ingest", "a", "b")
    task_failure_count(sender=FailedTask())
    assert sentinel_broker.hgetall("rekisteri:task-failures") == {b"tests.ops.fails_on_a_worker": b"1"}
    with broker.redis_broker() as found:
        assert found.queue_lengths(["ingest", "pdf"]) == {"ingest": 2, "pdf": 0}
    answered, families = broker_metrics()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }
    assert answered == 1
    assert samples[("rekisteri_celery_queue_length", (("kind", "ingest"), ("queue", "ingest")))] == 2
    assert samples[("rekisteri_celery_task_failures_total", (("task", "tests.ops.fails_on_a_worker"),))] == 1
