"""A Redis client for the locks every machine shares (the beat's, the purge's), from one of the Redis URLs.

A URL names a server (redis://, rediss://) or the Sentinels that watch one:
sentinel://h1:26379/<db>;sentinel://h2:26379/<db>, where the client asks the Sentinels for the current master of
settings.REDIS_SENTINEL_MASTER and asks again after a failover. Timeouts are short: a lock that cannot be
reached is reported at once (the purge skips its run, the beat keeps its lease or waits), never waited for.
"""

from urllib.parse import unquote, urlsplit

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel


def sentinel_hosts(url: str) -> tuple[list[tuple[str, int]], int, str | None, str | None]:
    """Return the Sentinels' (host, port) pairs of a sentinel:// URL list, its database, username and password.

    Every part names the same database (none: 0): kombu, for the broker, reads the first part's database and
    credentials only, so a URL whose parts differ would put the broker somewhere else than the cache or the locks.
    """
    parts = [urlsplit(part.strip()) for part in url.split(";")]
    databases = {int(part.path.strip("/") or 0) for part in parts}
    if len(databases) > 1:
        raise ValueError(f"Name the same database on every part of a sentinel:// URL: {sorted(databases)}")
    first = parts[0]
    return (
        [(part.hostname or "127.0.0.1", part.port or 26379) for part in parts],
        databases.pop(),
        unquote(first.username) if first.username else None,
        unquote(first.password) if first.password else None,
    )


def quick_options(timeout: float) -> dict:
    """Return redis-py connection options that give up after `timeout` seconds and never retry.

    redis-py's default tries a refused connection three more times with a backoff: seconds that a lock's caller, a
    page waiting on the cache, or a Sentinel list (before it asks the next Sentinel) would spend waiting.
    """
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}


def redis_client(url: str, *, timeout: float | None = None) -> redis.Redis:
    """Return a client of the Redis server `url` names, directly or through its Sentinels."""
    quick = quick_options(settings.REDIS_TIMEOUT_SECONDS if timeout is None else timeout)
    if url.startswith("sentinel://"):
        hosts, db, username, password = sentinel_hosts(url)
        sentinel = Sentinel(hosts, sentinel_kwargs=quick, **quick)
        return sentinel.master_for(settings.REDIS_SENTINEL_MASTER, db=db, username=username, password=password)
    return redis.Redis.from_url(url, **quick)
