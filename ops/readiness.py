"""Whether this node can serve: its database, its cache and the broker each answer within a short time.

The load balancer asks /readyz every few seconds on every node, so each check is one small round trip on the
connections the node already uses (the request's database connection, the configured cache), bounded by a
timeout: a dependency that hangs makes the probe answer "failing" rather than hold a worker.
"""

import logging
import os
import socket
import threading
import uuid

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from . import broker

logger = logging.getLogger(__name__)

OK = "ok"
FAILING = "failing"
SKIPPED = "skipped"
# A SELECT 1 slower than this means a server too busy to serve pages.
DATABASE_TIMEOUT_MS = 1000
CACHE_KEY_TTL_SECONDS = 60


def database_check() -> None:
    """Run SELECT 1 on the default (primary) database, under a statement timeout on PostgreSQL."""
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic(using=DEFAULT_DB_ALIAS), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # set_config(..., true) is SET LOCAL: it ends with this transaction.
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(DATABASE_TIMEOUT_MS)])
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise RuntimeError("SELECT 1 did not answer 1")


def cache_check() -> None:
    """Write a fresh value to the cache and read it back.

    The Redis cache ignores its own errors (settings: a cache that is down is a cache that misses), so a failed
    write shows only as a value that does not come back. The key is this process's and thread's own: probes of
    other nodes, or of other threads, never overwrite it between the write and the read.
    """
    key = f"ops:readyz:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    value = uuid.uuid4().hex
    cache.set(key, value, CACHE_KEY_TTL_SECONDS)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return the value just written")


def broker_check() -> bool:
    """Connect to the broker; return False when tasks run in the process and there is none."""
    if broker.in_memory():
        return False
    broker.check()
    return True


CHECKS = {"database": database_check, "cache": cache_check, "broker": broker_check}


def readiness() -> dict[str, str]:
    """Run every check; return each one's outcome by name: ok, failing, or skipped (no broker to reach)."""
    outcomes = {}
    for name, check in CHECKS.items():
        try:
            outcomes[name] = SKIPPED if check() is False else OK
        # Whatever a dependency raises, the probe's answer is "not ready", never an error page.
        except Exception as error:
            logger.warning("readiness check %s failed: %s: %s", name, type(error).__name__, error)
            outcomes[name] = FAILING
    return outcomes
