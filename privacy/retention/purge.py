"""The retention purge run: batches in transactions, a Redis lock, a count-only record, a redacted audit trail.

Safety rests on three things:
- each batch is one transaction that re-selects what is due (locking the rows), deletes whole records with
  everything under them, redacts their change log and adds the run's counts, so a crash loses at most the
  open batch and the next run simply finds those records still due (idempotent);
- a Redis lock keeps a second run from starting; without Redis the run is skipped and logged, never run
  unguarded;
- a run that was killed stays `running` until the next run, holding the lock, marks it `interrupted`.
"""

import datetime
import logging
import uuid
from collections import Counter
from collections.abc import Callable

import redis
from auditlog.models import LogEntry
from axes.models import AccessFailureLog, AccessLog
from celery import shared_task
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.requests.models import DataSubjectRequest
from registers.audit_chain import anchor_write, chained_delete
from registers.models import Register
from registers.redis_client import redis_client
from registers.state_machine import StateMachine

from .models import HoldType, PurgeCount, PurgeKind, PurgeRun, PurgeRunStatusChange
from .policies import POLICIES, policies_for, request_files_due, retention_counts
from .redaction import REDACTED_VALUE, delete_with_redacted_trail

logger = logging.getLogger("privacy.purge")  # the name operators filter on

# What a purged record's audit entries say instead of its name.
REDACTED_REPR = "[purged under retention]"

RUN = StateMachine(
    name="purge run",
    states=PurgeRun.Status,
    transitions={
        PurgeRun.Status.RUNNING: frozenset(
            {PurgeRun.Status.COMPLETED, PurgeRun.Status.FAILED, PurgeRun.Status.INTERRUPTED}
        ),
        PurgeRun.Status.COMPLETED: frozenset(),
        PurgeRun.Status.FAILED: frozenset(),
        PurgeRun.Status.INTERRUPTED: frozenset(),
        PurgeRun.Status.SKIPPED: frozenset(),
    },
    illegal_message=_("A purge run cannot move from %(old)s to %(new)s."),
)


class LockUnavailableError(Exception):
    """The lock service could not be reached, so nobody can tell whether another run is active."""


class PurgeLock:
    """A lock with a timeout in Redis (or in the local cache when the app runs without Redis)."""

    def __init__(self, *, url: str | None = None, timeout: int | None = None):
        self.url = settings.PURGE_LOCK_URL if url is None else url
        self.timeout = timeout or settings.PURGE_LOCK_TIMEOUT_SECONDS
        self.name = settings.PURGE_LOCK_NAME
        self.token = uuid.uuid4().hex
        self._lock = None

    def acquire(self) -> bool:
        if not self.url:
            # Quick start: one process, in-process tasks; the local cache is the whole world.
            return cache.add(self.name, self.token, self.timeout)
        # Redis or its Sentinels (registers.redis_client); a slow answer within two seconds still counts.
        client = redis_client(self.url, timeout=2)
        self._lock = client.lock(self.name, timeout=self.timeout, blocking=False)
        try:
            return bool(self._lock.acquire())
        except redis.RedisError as error:
            raise LockUnavailableError(type(error).__name__) from error

    def extend(self) -> None:
        """Reset the timeout; a long run keeps its lock while it makes progress."""
        if self._lock is None:
            cache.touch(self.name, self.timeout)
            return
        self._lock.reacquire()

    def release(self) -> None:
        if self._lock is None:
            if cache.get(self.name) == self.token:
                cache.delete(self.name)
            return
        try:
            self._lock.release()
        except redis.RedisError:
            # Expired or Redis gone: the timeout frees it either way.
            logger.warning("Purge lock could not be released; it expires on its own.")


@transaction.atomic
def purge_run_transition(*, run: PurgeRun, to: str, reason: str = "") -> PurgeRun:
    """Move a purge run to another status and record the move."""
    run = PurgeRun.objects.select_for_update().get(pk=run.pk)
    RUN.check(run.status, to)
    PurgeRunStatusChange.objects.create(run=run, old=run.status, new=to, reason=reason[:200])
    run.status = to
    run.note = reason[:200]
    if to != PurgeRun.Status.RUNNING:
        run.finished_at = timezone.now()
    run.save(update_fields=["status", "note", "finished_at"])
    return run


def _interrupt_stale_runs() -> None:
    # Called with the lock held: any run still `running` died without finishing.
    for run in PurgeRun.objects.filter(status=PurgeRun.Status.RUNNING):
        purge_run_transition(run=run, to=PurgeRun.Status.INTERRUPTED, reason="process ended mid-run")


def _delete_with_trail(queryset, run: PurgeRun) -> Counter:
    """Delete the rows with everything that cascades from them, redacting and logging each audited row."""
    # The one redaction routine, shared with erasure on request (privacy.redaction).
    return delete_with_redacted_trail(
        queryset,
        actor_id=run.triggered_by_id,
        object_repr=REDACTED_REPR,
        additional={"purge_run": str(run.code), "reason": "retention"},
    )


class Progress:
    """Hooks for tests and benchmarks; a hook that raises rolls back the open batch, as a crash would."""

    def __init__(self, on_batch: Callable | None = None):
        self.on_batch = on_batch

    def batch(self, **kwargs) -> None:
        if self.on_batch is not None:
            self.on_batch(**kwargs)


def _purge_kind(*, run: PurgeRun, register: Register, policy, batch_size: int, lock: PurgeLock, progress) -> None:
    now = timezone.now()
    counts = retention_counts(policy, register, now)
    count = PurgeCount.objects.create(run=run, register=register, kind=policy.kind, due=counts.due, held=counts.held)
    model = policy.due(register, now).model
    referenced: set = set()
    while True:
        with transaction.atomic():
            # Re-select inside the transaction, locking the rows: a customer touched since the count, or held
            # meanwhile, is no longer due; rows locked by a user's edit are left for the next run.
            pks = list(
                policy.purgeable(register, now)
                .exclude(pk__in=referenced)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                break
            try:
                with transaction.atomic():
                    removed = _delete_with_trail(model.objects.filter(pk__in=pks), run)
            except (ProtectedError, RestrictedError):
                removed = _delete_one_by_one(model, pks, run, count, referenced)
            purged = removed.pop(model._meta.label, 0)
            cascaded = dict(count.cascaded)
            for label, n in removed.items():
                cascaded[label.lower()] = cascaded.get(label.lower(), 0) + n
            count.cascaded = cascaded
            count.purged = F("purged") + purged
            count.save(update_fields=["purged", "cascaded"])
            count.refresh_from_db(fields=["purged", "held"])
            PurgeRun.objects.filter(pk=run.pk).update(batches=F("batches") + 1)
            progress.batch(run=run, register=register, kind=policy.kind, pks=pks)
        lock.extend()


def _delete_one_by_one(model, pks: list, run: PurgeRun, count: PurgeCount, referenced: set) -> Counter:
    """Delete what can be deleted; rows another record protects are counted as held back and skipped."""
    removed: Counter = Counter()
    before = len(referenced)
    for pk in pks:
        try:
            with transaction.atomic():
                removed += _delete_with_trail(model.objects.filter(pk=pk), run)
        except (ProtectedError, RestrictedError):
            referenced.add(pk)
    if len(referenced) > before:
        held = dict(count.held)
        held[HoldType.REFERENCED] = held.get(HoldType.REFERENCED, 0) + len(referenced) - before
        count.held = held
        count.save(update_fields=["held"])
    return removed


def _purge_request_files(*, run: PurgeRun, lock: PurgeLock) -> None:
    from privacy.requests.file_purge import request_file_purge

    due = request_files_due()
    total = due.count()
    if not total:
        return
    count = PurgeCount.objects.create(run=run, register=None, kind=PurgeKind.REQUEST_FILE, due=total)
    cascaded: Counter = Counter()
    purged = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            # Re-read and locked: a file reopened since the count is no longer due.
            request = due.select_for_update().filter(pk=pk).first()
            if request is None:
                continue
            removed = request_file_purge(request=request, run=run)
        removed.pop(DataSubjectRequest._meta.label, None)
        cascaded.update({label.lower(): n for label, n in removed.items()})
        purged += 1
        lock.extend()
    count.purged = purged
    count.cascaded = dict(cascaded)
    count.save(update_fields=["purged", "cascaded"])


def _purge_audit_trail(*, run: PurgeRun, register: Register | None) -> None:
    """Remove the audit trail's own entries past the retention its register sets (login logs: no register).

    Each removal is a link in the tamper-evident chain; the run's counts and the anchor written after the run
    record how many went (registers.audit_chain).
    """
    now = timezone.now()
    if register is not None:
        cutoff = now - relativedelta(months=register.audit_retention_months)
        trails = [LogEntry.objects.filter(additional_data__register=register.pk, timestamp__lt=cutoff)]
        kind = PurgeKind.AUDIT_ENTRY
    else:
        cutoff = now - datetime.timedelta(days=settings.LOGIN_LOG_RETENTION_DAYS)
        trails = [
            AccessLog.objects.filter(attempt_time__lt=cutoff),
            AccessFailureLog.objects.filter(attempt_time__lt=cutoff),
        ]
        kind = PurgeKind.LOGIN_LOG
    due = sum(trail.count() for trail in trails)
    if not due:
        return
    count = PurgeCount.objects.create(run=run, register=register, kind=kind, due=due)
    purged = 0
    for trail in trails:
        while True:
            with transaction.atomic():
                pks = list(trail.order_by("pk").values_list("pk", flat=True)[: settings.PURGE_BATCH_SIZE * 5])
                if not pks:
                    break
                purged += chained_delete(trail.model.objects.filter(pk__in=pks))
    count.purged = purged
    count.save(update_fields=["purged"])


def purge_run(
    *,
    trigger: str,
    register: Register | None = None,
    actor=None,
    batch_size: int | None = None,
    lock: PurgeLock | None = None,
    on_batch: Callable | None = None,
) -> PurgeRun | None:
    """Purge everything past retention (in one register or all); return the run, or None if another is running."""
    lock = lock or PurgeLock()
    try:
        acquired = lock.acquire()
    except LockUnavailableError as error:
        logger.error("Retention purge skipped: the lock service is unavailable (%s).", error)
        return PurgeRun.objects.create(
            status=PurgeRun.Status.SKIPPED,
            trigger=trigger,
            register=register,
            triggered_by=actor,
            finished_at=timezone.now(),
            note=f"lock unavailable: {error}"[:200],
        )
    if not acquired:
        logger.info("Retention purge not started: another run holds the lock.")
        return None
    try:
        _interrupt_stale_runs()
        run = PurgeRun.objects.create(trigger=trigger, register=register, triggered_by=actor)
        progress = Progress(on_batch)
        try:
            registers = [register] if register else list(Register.objects.order_by("pk"))
            for each in registers:
                for policy in policies_for(each):
                    _purge_kind(
                        run=run,
                        register=each,
                        policy=policy,
                        batch_size=batch_size or settings.PURGE_BATCH_SIZE,
                        lock=lock,
                        progress=progress,
                    )
                _purge_audit_trail(run=run, register=each)
            if register is None:
                _purge_request_files(run=run, lock=lock)
                _purge_audit_trail(run=run, register=None)
        except Exception as error:
            purge_run_transition(run=run, to=PurgeRun.Status.FAILED, reason=type(error).__name__)
            logger.exception("Retention purge run %s failed.", run.code)
            raise
        run = purge_run_transition(run=run, to=PurgeRun.Status.COMPLETED)
        if run.counts.filter(kind__in=[PurgeKind.AUDIT_ENTRY, PurgeKind.LOGIN_LOG], purged__gt=0).exists():
            # The chain's heads after the trail's own removals, outside the database at once (not only tonight).
            try:
                anchor_write(note=f"retention purge {run.code}")
            except OSError:
                logger.exception("The audit anchor after purge run %s could not be written.", run.code)
        logger.info("Retention purge run %s completed in %s batches.", run.code, run.batches)
        return run
    finally:
        lock.release()


@shared_task(name="privacy.purge.purge_run_task", acks_late=True)
def purge_run_task(register_code: str | None = None, actor_id: int | None = None, trigger: str = "schedule"):
    """Run the purge from Celery beat (daily) or for a user's "run now"; return the run's code."""
    from django.contrib.auth import get_user_model

    register = Register.objects.get(code=register_code) if register_code else None
    actor = get_user_model().objects.get(pk=actor_id) if actor_id else None
    run = purge_run(trigger=trigger, register=register, actor=actor)
    return str(run.code) if run else None


__all__ = ["POLICIES", "REDACTED_VALUE", "PurgeLock", "purge_run", "purge_run_task", "purge_run_transition"]
