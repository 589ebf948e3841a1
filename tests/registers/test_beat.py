"""Exactly one beat (registers/beat.py): two real `celery beat` processes, one schedule entry due every second.

What each beat sends is read from the broker itself: the entry's messages pile up in a queue nobody consumes,
and each names the process that published it (Celery's `origin` header).
"""

import itertools
import json
import os
import re
import signal
import threading
import time
import uuid

import pytest
import redis
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .conftest import broker_url, celery_process, stop
from .redis_servers import redis_server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
# Short enough for a test: the holder renews every second, and sends for 3 s after Redis last answered.
LOCK_SECONDS = 4


class Sends:
    """The messages published to `queue`, in order, with when they were seen and which process sent each."""

    def __init__(self, queue: str):
        self.queue = queue
        self.client = redis.Redis.from_url(broker_url())
        self.seen: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            count = self.client.llen(self.queue)
            if count > len(self.seen):
                # kombu pushes on the left: the newest messages are at the head.
                new = self.client.lrange(self.queue, 0, count - len(self.seen) - 1)
                now = time.monotonic()
                for raw in reversed(new):
                    origin = json.loads(raw)["headers"]["origin"]
                    self.seen.append((now, int(re.match(r"gen(\d+)@", origin).group(1))))
            time.sleep(0.02)

    def close(self):
        self._stop.set()
        self._thread.join()
        self.client.close()

    def senders(self, since: float = 0.0, until: float = float("inf")) -> set[int]:
        return {pid for at, pid in self.seen if since <= at < until}

    def wait(self, condition, *, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.seen}"
            time.sleep(0.05)


@pytest.fixture
def lock_redis(tmp_path):
    with redis_server(tmp_path) as (port, process):
        yield f"redis://127.0.0.1:{port}/0", process


def test_one_beat_sends_and_the_other_takes_over_when_it_dies(lock_redis, tmp_path):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL for the broker (CI sets it)")
    lock_url, lock_process = lock_redis
    prefix = f"test-beat-{uuid.uuid4().hex[:8]}-"
    probe = f"{prefix}probe"
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name=probe, task="registers.tasks.memberships_sync", interval=every_second, queue=probe)
    env = {
        "LOCK_URL": lock_url,
        "BEAT_LOCK_NAME": f"{prefix}lock",
        "BEAT_LOCK_TIMEOUT_SECONDS": str(LOCK_SECONDS),
        "LOG_LEVEL": "INFO",
    }
    beats = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        process = celery_process(
            "beat", "--pidfile=", "-s", str(tmp_path / name / "schedule"), "-l", "INFO",
            queue=f"{prefix}default", log_dir=tmp_path / name, env=env,
        )  # fmt: skip
        beats[process.pid] = (process, tmp_path / name / "beat.log")
    sends = Sends(probe)
    try:
        sends.wait(lambda: len(sends.seen) >= 2, seconds=30, what="the first sends")
        assert len(sends.senders()) == 1, "both beats sent"
        [holder] = sends.senders()
        [standby] = set(beats) - {holder}

        # Redis stops answering (the process is paused, its keys kept) for less than the lease: the holder goes
        # on sending, and the other beat cannot take the lock.
        lock_process.send_signal(signal.SIGSTOP)
        paused = time.monotonic()
        time.sleep(2)
        lock_process.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        sends.wait(lambda: sends.senders(since=resumed), seconds=5, what="a send after the outage")
        assert sends.senders(since=paused, until=resumed), "the holder stopped sending during a short outage"

        beats[holder][0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        sends.wait(lambda: sum(at > killed for at, _ in sends.seen) >= 2, seconds=15, what="a take-over")
    except BaseException:
        for _, log in beats.values():
            print(log.read_text())
        raise
    finally:
        sends.close()
        for process, _ in beats.values():
            stop(process)
        # What the beats sent, to queues nobody consumes, and the queues' bindings.
        client = redis.Redis.from_url(broker_url())
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()

    assert sends.senders(until=killed) == {holder}
    assert sends.senders(since=killed) == {standby}
    taken_over = min(at for at, _ in sends.seen if at > killed)
    assert taken_over - killed < LOCK_SECONDS + 3
    # Nothing sent twice: one message a second, never two at once (also not at the take-over).
    times = [at for at, _ in sends.seen]
    assert min(b - a for a, b in itertools.pairwise(times)) > 0.5
    assert "holds the beat lock" in beats[holder][1].read_text()
    assert "waits" in beats[standby][1].read_text()
