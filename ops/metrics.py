"""Prometheus metrics of the service as a whole, computed when /metrics is scraped.

The request metrics (latency by view, responses by status) are django-prometheus's, kept per process. These are
read from the shared stores instead, so every web node answers the same figures: across nodes, take their max(),
never their sum():

- the messages waiting in each Celery queue (Redis lists of the broker);
- tasks that failed, by task name: a hash in the broker's Redis that every worker, on any machine, adds to on
  Celery's task_failure signal (connected in ops.apps), so any node's scrape sees the failures of all;
- records purged by the retention purge, by kind, and its runs (privacy.retention.models);
- contact-centre messages archived in the last day, by intake, and rows imported from files;
- open data-subject requests, and those overdue or due within NEAR_DUE_DAYS (the staff's "due soon" list).

A scrape costs one round trip to the broker and five aggregate queries. A store that is down leaves its figures
out and says so in rekisteri_scrape_source_up; the request metrics are served regardless.
"""

import datetime
import logging
import os

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from crm.models import ContactCentreMessage
from imports.models import ImportBatch
from privacy.requests.models import DataSubjectRequest
from privacy.requests.selectors import NEAR_DUE_DAYS
from privacy.retention.models import PurgeCount, PurgeKind, PurgeRun

from . import broker

logger = logging.getLogger(__name__)

# A hash of task name -> failures, next to the queues in the broker's Redis (whose data Celery needs kept).
TASK_FAILURES_KEY = "rekisteri:task-failures"
ARCHIVE_WINDOW = datetime.timedelta(days=1)


def task_failures_key() -> str:
    # Deployments (or test processes) sharing one Redis keep their queues apart by the prefix, and their counts.
    return f"{settings.CELERY_QUEUE_PREFIX}{TASK_FAILURES_KEY}"


def task_failure_count(sender=None, **kwargs) -> None:
    """Count one failed task in the broker's Redis (Celery's task_failure signal; see ops.apps).

    Runs in the worker that ran the task. A broker that is down loses the count, never the worker's next task.
    """
    if broker.in_memory():
        return
    name = getattr(sender, "name", None) or "unknown"
    try:
        with broker.redis_broker() as redis:
            redis.client.hincrby(task_failures_key(), name, 1)
    except broker.ERRORS as error:
        logger.warning("failure of task %s not counted: %s: %s", name, type(error).__name__, error)


def _decoded(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def broker_metrics() -> tuple[int | None, list]:
    """Return whether the broker answered (None: tasks run in the process) and the queue and failure figures."""
    if broker.in_memory():
        return None, []
    try:
        with broker.redis_broker() as redis:
            kinds = settings.CELERY_QUEUES_BY_KIND
            lengths = redis.queue_lengths(kinds.values())
            failures = redis.client.hgetall(task_failures_key())
    except broker.ERRORS as error:
        logger.warning("metrics: broker not read: %s: %s", type(error).__name__, error)
        return 0, []
    queued = GaugeMetricFamily(
        "rekisteri_celery_queue_length", "Messages waiting in the Celery queue.", labels=["kind", "queue"]
    )
    for kind, queue in kinds.items():
        queued.add_metric([kind, queue], lengths[queue])
    failed = CounterMetricFamily(
        "rekisteri_celery_task_failures", "Tasks that ended in an exception, on any worker.", labels=["task"]
    )
    for task, count in sorted((_decoded(task), int(count)) for task, count in failures.items()):
        failed.add_metric([task], count)
    return 1, [queued, failed]


def _purge_metrics():
    purged = CounterMetricFamily(
        "rekisteri_purge_records", "Records the retention purge deleted, by kind, over every run.", labels=["kind"]
    )
    totals = dict.fromkeys(PurgeKind.values, 0)
    for row in PurgeCount.objects.order_by().values("kind").annotate(purged=Sum("purged")):
        totals[row["kind"]] = row["purged"] or 0
    for kind, total in totals.items():
        purged.add_metric([kind], total)
    yield purged

    runs = GaugeMetricFamily("rekisteri_purge_runs", "Runs of the retention purge by status.", labels=["status"])
    by_status = dict.fromkeys(PurgeRun.Status.values, 0)
    last_completed = None
    for row in PurgeRun.objects.order_by().values("status").annotate(runs=Count("id"), last=Max("finished_at")):
        by_status[row["status"]] = row["runs"]
        if row["status"] == PurgeRun.Status.COMPLETED:
            last_completed = row["last"]
    for status, count in by_status.items():
        runs.add_metric([status], count)
    yield runs
    if last_completed is not None:
        yield GaugeMetricFamily(
            "rekisteri_purge_last_completed_timestamp_seconds",
            "When the last completed run of the retention purge finished.",
            value=last_completed.timestamp(),
        )


def _ingestion_metrics(now: datetime.datetime):
    archived = GaugeMetricFamily(
        "rekisteri_archive_messages_ingested_last_day",
        "Contact-centre messages archived in the last 24 hours, by the way they came in.",
        labels=["intake"],
    )
    by_intake = dict.fromkeys(ContactCentreMessage.Intake.values, 0)
    recent = ContactCentreMessage.objects.filter(created_at__gte=now - ARCHIVE_WINDOW).order_by()
    for row in recent.values("intake").annotate(messages=Count("id")):
        by_intake[row["intake"]] = row["messages"]
    for intake, count in by_intake.items():
        archived.add_metric([intake], count)
    yield archived

    # A batch's created and updated count the rows written once it has started; before, they are the preview's.
    ran = Q(started_at__isnull=False)
    rows = ImportBatch.objects.order_by().values("state")
    rows = rows.annotate(batches=Count("id"), created=Sum("created", filter=ran), updated=Sum("updated", filter=ran))
    batches = GaugeMetricFamily("rekisteri_import_batches", "Import batches by state.", labels=["state"])
    by_state = dict.fromkeys(ImportBatch.State.values, 0)
    written = {"created": 0, "updated": 0}
    for row in rows:
        by_state[row["state"]] = row["batches"]
        for action in written:
            written[action] += row[action] or 0
    for state, count in by_state.items():
        batches.add_metric([state], count)
    yield batches
    imported = CounterMetricFamily(
        "rekisteri_import_rows", "Rows imported from files into registers, by what they did.", labels=["action"]
    )
    for action, count in written.items():
        imported.add_metric([action], count)
    yield imported


def _request_metrics(now: datetime.datetime):
    horizon = now + datetime.timedelta(days=NEAR_DUE_DAYS)
    counts = {"open": Count("id")}
    for deadline in ("legal", "service"):
        due = f"{deadline}_due_at"
        counts[f"{deadline}_overdue"] = Count("id", filter=Q(**{f"{due}__lt": now}))
        counts[f"{deadline}_due_soon"] = Count("id", filter=Q(**{f"{due}__gte": now, f"{due}__lte": horizon}))
    found = DataSubjectRequest.objects.open().order_by().aggregate(**counts)
    yield GaugeMetricFamily(
        "rekisteri_data_subject_requests_open", "Data-subject requests waiting for someone.", value=found["open"]
    )
    at_risk = GaugeMetricFamily(
        "rekisteri_data_subject_requests_at_risk",
        f"Open data-subject requests past a deadline (overdue) or due within {NEAR_DUE_DAYS} days (due_soon); "
        "legal is the GDPR deadline, service the answer promised.",
        labels=["deadline", "risk"],
    )
    for deadline in ("legal", "service"):
        for risk in ("overdue", "due_soon"):
            at_risk.add_metric([deadline, risk], found[f"{deadline}_{risk}"])
    yield at_risk


def database_metrics() -> tuple[int, list]:
    """Return whether the database answered and the purge, ingestion and request figures.

    Read in full before any is returned: a failure half-way leaves the database's figures out whole.
    """
    now = timezone.now()
    try:
        return 1, [*_purge_metrics(), *_ingestion_metrics(now), *_request_metrics(now)]
    except DatabaseError as error:
        logger.warning("metrics: database not read: %s: %s", type(error).__name__, error)
        return 0, []


class ServiceCollector:
    """The figures above, as a prometheus_client collector (see the module's docstring)."""

    def describe(self):
        # Nothing to declare up front: registering the collector must not run its queries.
        return []

    def collect(self):
        up = GaugeMetricFamily(
            "rekisteri_scrape_source_up", "1 if the store answered this scrape, else 0.", labels=["source"]
        )
        families = []
        for source, read in (("broker", broker_metrics), ("database", database_metrics)):
            answered, found = read()
            if answered is not None:
                up.add_metric([source], answered)
            families += found
        yield up
        yield from families


def multiprocess() -> bool:
    """Tell whether the web server runs several worker processes that share their metrics through files."""
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ


def scrape_registry() -> CollectorRegistry:
    """Return a registry of everything one scrape shows.

    As django-prometheus's own ExportToDjangoView: under several worker processes (gunicorn with
    PROMETHEUS_MULTIPROC_DIR) the request metrics are the sum of every worker's files, else this process's.
    """
    registry = CollectorRegistry()
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(ServiceCollector())
    return registry
