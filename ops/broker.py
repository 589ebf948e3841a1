"""The Celery broker as the operations endpoints reach it: with short timeouts, and never retried.

The readiness probe, the scrape and a worker counting a failed task each open a connection of their own through
kombu, the library Celery publishes with, so that a Sentinel URL and the broker's transport options work here as
they do for the tasks. A broker that is down is reported or skipped within REDIS_TIMEOUT_SECONDS; kombu's default
(retry until it answers) would hold a probe or a scrape for as long as the outage lasts.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from kombu import Connection
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError


class NotRedisError(Exception):
    """The broker is not Redis: there are no lists to measure and no counters to keep."""


# What a broker that is down, slow, refusing or of another kind raises here, through kombu or redis-py.
ERRORS = (OperationalError, RedisError, OSError, NotRedisError)


def in_memory() -> bool:
    """Tell whether tasks run in the process (quick start, tests): there is no broker to reach."""
    return settings.CELERY_BROKER_URL.startswith("memory://")


@contextmanager
def connection() -> Iterator[Connection]:
    timeout = settings.REDIS_TIMEOUT_SECONDS
    options = {
        **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        # Give up at the first refusal (kombu's default retries forever).
        "max_retries": 0,
    }
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options) as opened:
        yield opened


def check() -> None:
    """Connect to the broker once (a Redis broker is sent a PING); raise one of ERRORS if it does not answer."""
    with connection() as opened:
        opened.ensure_connection(max_retries=0)


@dataclass
class RedisBroker:
    """A Redis broker reached through kombu: its client, and the channel that names its lists."""

    client: Any
    channel: Any

    def queue_lengths(self, queues: Iterable[str]) -> dict[str, int]:
        """Return the messages waiting in each queue, counted in one round trip.

        kombu keeps one list per priority step: the queue's own name for step 0, `<queue><sep><step>` for the
        others (kombu.transport.redis.Channel._q_for_pri); a queue's length is the sum of its lists.
        """
        queues = list(queues)
        steps = self.channel.priority_steps
        pipe = self.client.pipeline(transaction=False)
        for queue in queues:
            for step in steps:
                pipe.llen(f"{queue}{self.channel.sep}{step}" if step else queue)
        sizes = iter(pipe.execute())
        return {queue: sum(next(sizes) for _step in steps) for queue in queues}


@contextmanager
def redis_broker() -> Iterator[RedisBroker]:
    """Yield the broker's Redis (plain or found through Sentinel); raise NotRedisError for another transport."""
    with connection() as opened:
        channel = opened.default_channel
        if not hasattr(channel, "conn_or_acquire"):
            raise NotRedisError(opened.transport_cls)
        with channel.conn_or_acquire() as client:
            yield RedisBroker(client=client, channel=channel)
