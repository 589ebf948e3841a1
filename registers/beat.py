"""Exactly one beat sends the schedule: django-celery-beat's database scheduler behind a lease in Redis.

Every machine may run `celery -A config beat`. The beat that holds the lock (settings.LOCK_URL, BEAT_LOCK_NAME)
sends; any other sends nothing and tries for the lock every few seconds. The holder renews the lock on every
tick, at most a quarter of its timeout (BEAT_LOCK_TIMEOUT_SECONDS) apart, and sends only within its lease:

- the lease is counted from the moment the holder asked Redis, and ends a quarter of the timeout before the key
  in Redis can expire: by the time another beat can take the lock, the holder has stopped sending;
- while Redis cannot be reached the holder goes on sending within its lease (an outage shorter than three
  quarters of the timeout goes unnoticed) and no other beat can take the lock; once Redis answers that the
  lock is another's, or gone, the holder stops at once;
- each send is written to the database as it is made, and a beat that takes the lock reads the schedule afresh
  from there, so a take-over does not send again what the last holder sent.

The lease holds only if the lock's Redis keeps its keys when it restarts (appendonly, or Sentinel replicas).
"""

import logging
import os
import socket
import time
import uuid

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django_celery_beat.schedulers import DatabaseScheduler

from .redis_client import redis_client

logger = logging.getLogger("registers.beat")  # the name operators filter on


class LockedDatabaseScheduler(DatabaseScheduler):
    """The database scheduler, sending only while this beat holds the beat lock."""

    def __init__(self, *args, **kwargs):
        self.beat_name = f"{socket.gethostname()}:{os.getpid()}"
        self._token = f"{self.beat_name}:{uuid.uuid4().hex}"
        self.lock_timeout = settings.BEAT_LOCK_TIMEOUT_SECONDS
        self._lock = None
        self._lease_until = None  # time.monotonic() when this beat must stop sending; None: the lock is not held
        self._next_try = 0.0
        self._holder_seen = None
        self._unreachable = False
        super().__init__(*args, **kwargs)
        # Each send reaches the database at once, not every three minutes: a beat taking over reads it there.
        self.sync_every_tasks = 1
        if not settings.LOCK_URL:
            logger.warning("No LOCK_URL: beat %s sends without a lock, so no other beat may run.", self.beat_name)

    @property
    def retry_seconds(self) -> float:
        """How often the lock is renewed (by the holder) or tried for (by the others)."""
        return max(min(self.max_interval, self.lock_timeout / 4), 0.1)

    def tick(self, *args, **kwargs):
        if not self.lock_hold():
            return self.retry_seconds
        try:
            return min(super().tick(*args, **kwargs), self.retry_seconds)
        except DatabaseError:
            # The database (or the pooler in front of it) went away under the schedule's query: a beat that exits
            # here leaves every schedule unsent until somebody restarts it. Drop the broken connection and try
            # again on the next tick; what was due is still due then.
            logger.warning("beat: the database did not answer; trying again", exc_info=True)
            close_old_connections()
            connection.close()
            return self.retry_seconds

    def reserve(self, entry):
        new_entry = super().reserve(entry)
        # DatabaseScheduler keeps the entry as it was before the send; a heap rebuilt from it (after a reload, a
        # take-over) would find the entry due again and send it twice.
        self._schedule[new_entry.name] = new_entry
        return new_entry

    def close(self):
        try:
            super().close()
        finally:
            self.lock_release()

    def lock_hold(self) -> bool:
        """Take or renew the beat lock; return whether this beat may send now."""
        if not settings.LOCK_URL:
            return True
        now = time.monotonic()
        if self._lease_until is None:
            return self._lock_take(now)
        if now < self._next_try:
            # Redis failed to answer a moment ago: live on the lease rather than wait on it at every send.
            return self._lease_left(now)
        try:
            self._lock.reacquire()
        except redis.exceptions.LockError:
            logger.warning("Beat %s lost the beat lock; it sends nothing until it holds it again.", self.beat_name)
            self._lease_until = None
            return False
        except redis.RedisError as error:
            self._next_try = now + self.retry_seconds
            if not self._unreachable:
                self._unreachable = True
                logger.warning(
                    "Beat %s cannot reach the lock's Redis (%s); it sends for %.0f s more unless Redis answers.",
                    self.beat_name,
                    type(error).__name__,
                    self._lease_until - now,
                )
            return self._lease_left(now)
        self._lease_until = now + self.lock_timeout * 3 / 4
        self._unreachable = False
        return True

    def lock_release(self) -> None:
        """Give the lock up, so that a waiting beat takes over at once rather than when it expires."""
        if self._lease_until is None or self._lock is None:
            return
        self._lease_until = None
        try:
            self._lock.release()
        except redis.RedisError:
            # Lost or unreachable: it expires on its own.
            logger.warning("Beat %s could not release the beat lock; it expires on its own.", self.beat_name)
        else:
            logger.info("Beat %s released the beat lock.", self.beat_name)

    def _lease_left(self, now: float) -> bool:
        if now < self._lease_until:
            return True
        logger.warning("Beat %s stops sending: its lease ran out while Redis did not answer.", self.beat_name)
        self._lease_until = None
        return False

    def _lock_take(self, now: float) -> bool:
        if now < self._next_try:
            return False
        self._next_try = now + self.retry_seconds
        if self._lock is None:
            client = redis_client(settings.LOCK_URL)
            self._lock = client.lock(settings.BEAT_LOCK_NAME, timeout=self.lock_timeout, thread_local=False)
        try:
            taken = self._lock.acquire(blocking=False, token=self._token)
            holder = None if taken else self._lock.redis.get(self._lock.name)
            if holder == self._token.encode():
                # Still this beat's from before an outage that outlasted the lease.
                self._lock.local.token = holder
                self._lock.reacquire()
                taken = True
        except redis.RedisError as error:
            if not self._unreachable:
                self._unreachable = True
                logger.warning("Beat %s cannot reach the lock's Redis (%s); it waits.", self.beat_name, error)
            return False
        self._unreachable = False
        if not taken:
            holder = holder.decode().rpartition(":")[0] if holder else "nobody"
            if holder != self._holder_seen:
                self._holder_seen = holder
                logger.info("The beat lock is held by beat %s; beat %s waits.", holder, self.beat_name)
            return False
        self._lease_until = now + self.lock_timeout * 3 / 4
        self._holder_seen = None
        logger.info("Beat %s holds the beat lock and sends the schedule.", self.beat_name)
        # What the last holder sent is in the database (each send is written at once): start from there.
        self._schedule = self.all_as_schedule()
        self._heap = None
        return True
