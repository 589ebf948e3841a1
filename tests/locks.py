"""Holding a worker's lock from the test, as another worker process would."""

import contextlib

from django.db import connections


@contextlib.contextmanager
def advisory_lock_held_elsewhere(namespace: int, pk: int):
    """Hold the PostgreSQL session advisory lock (namespace, pk) on a database connection of its own.

    It is released with pg_advisory_unlock before the connection closes: a close returns before the server has
    ended the session, so a lock left to the close can outlive it by a moment and make the test's next try busy.
    """
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, pk])
            assert cursor.fetchone()[0], "the lock was already held"
        yield
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, pk])
    finally:
        other.close()
