"""The service's own figures on /metrics (ops.metrics), computed from the database and the broker when scraped."""

import datetime
import logging
import time

import pytest
from celery import shared_task
from django.db import OperationalError, connection
from django.utils import timezone

from crm.models import ContactCentreMessage
from imports.models import ImportBatch
from ops.metrics import ServiceCollector
from privacy.requests import services
from privacy.requests.models import DataSubjectRequest
from privacy.retention.models import PurgeRun
from privacy.retention.purge import PurgeLock, purge_run

from ..factories import ContactCentreMessageFactory, ContactCentreRegisterFactory, OrderingClientFactory
from ..imports.helpers import committed_batch, organisation_rows, previewed_batch
from ..privacy import steps
from ..privacy.retention_helpers import idle_customer
from .conftest import closed_port

pytestmark = pytest.mark.django_db


@shared_task(name="tests.ops.fails")
def fails():
    raise ValueError("the task's own error")


def figures() -> dict[tuple, float]:
    """Return every sample of one scrape as {(name, (label, value), ...): value}."""
    found = {}
    for family in ServiceCollector().collect():
        for sample in family.samples:
            found[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return found


def family_names() -> list[str]:
    return [family.name for family in ServiceCollector().collect()]


def intake_on(register, *, days_ago: int, handler):
    """A letter received `days_ago` days ago, recorded by a handler: its deadlines count from that day."""
    return services.request_intake(
        actor=handler,
        registers=[register],
        data={
            "kind": "access",
            "channel": DataSubjectRequest.Channel.POST,
            "requester_name": "Kirje Kirjoittaja",
            "received_on": timezone.localdate() - datetime.timedelta(days=days_ago),
            "identity_method": "signed_letter",
        },
    )


def test_open_requests_past_or_near_their_deadlines_are_counted(register_a, handler_a, broker_in_memory):
    intake_on(register_a, days_ago=40, handler=handler_a)  # both deadlines passed
    intake_on(register_a, days_ago=6, handler=handler_a)  # the register's 7 days end tomorrow
    steps.in_triage(register_a, handler_a)  # received today
    steps.submit(register_a)  # e-mail not confirmed: no deadline runs yet
    found = figures()
    assert found[("rekisteri_data_subject_requests_open",)] == 3
    at_risk = {
        (labels[0][1], labels[1][1]): value
        for (name, *labels), value in found.items()
        if name == "rekisteri_data_subject_requests_at_risk"
    }
    assert at_risk == {
        ("legal", "overdue"): 1,
        ("legal", "due_soon"): 0,
        ("service", "overdue"): 1,
        ("service", "due_soon"): 1,
    }


def test_purged_records_and_the_runs_of_the_purge_are_counted(register_a, broker_in_memory):
    idle_customer(register_a)
    idle_customer(register_a, children=False)
    run = purge_run(trigger=PurgeRun.Trigger.COMMAND, register=register_a)
    # A later run skipped: the lock service cannot be reached.
    lock_down = PurgeLock(url=f"redis://127.0.0.1:{closed_port()}/0")
    skipped = purge_run(trigger=PurgeRun.Trigger.COMMAND, register=register_a, lock=lock_down)
    assert skipped.finished_at > run.finished_at
    found = figures()
    assert found[("rekisteri_purge_records_total", ("kind", "customer"))] == 2
    assert found[("rekisteri_purge_records_total", ("kind", "call_recording"))] == 0
    assert found[("rekisteri_purge_runs", ("status", "completed"))] == 1
    assert found[("rekisteri_purge_runs", ("status", "skipped"))] == 1
    assert found[("rekisteri_purge_runs", ("status", "failed"))] == 0
    assert found[("rekisteri_purge_last_completed_timestamp_seconds",)] == run.finished_at.timestamp()


def test_the_last_completed_purge_is_left_out_until_there_is_one(broker_in_memory):
    assert "rekisteri_purge_last_completed_timestamp_seconds" not in family_names()


def test_messages_archived_in_the_last_day_are_counted_by_intake(broker_in_memory):
    client = OrderingClientFactory(register=ContactCentreRegisterFactory())
    ContactCentreMessageFactory.create_batch(2, ordering_client=client, intake=ContactCentreMessage.Intake.MAILBOX)
    ContactCentreMessageFactory(ordering_client=client, intake=ContactCentreMessage.Intake.UPLOAD)
    earlier = timezone.now() - datetime.timedelta(hours=25)
    ContactCentreMessageFactory(ordering_client=client, intake=ContactCentreMessage.Intake.MAILBOX, created_at=earlier)
    found = figures()
    name = "rekisteri_archive_messages_ingested_last_day"
    assert found[(name, ("intake", "mailbox"))] == 2
    assert found[(name, ("intake", "upload"))] == 1
    assert found[(name, ("intake", "maildir"))] == 0


def test_rows_count_as_imported_once_written_not_when_previewed(
    handler_a, register_a, settings, tmp_path, celery_eager, broker_in_memory
):
    settings.MEDIA_ROOT = tmp_path
    committed_batch(actor=handler_a, register=register_a, rows=organisation_rows(3))
    # Previewed only: its created count is the preview's forecast, nothing is written yet.
    previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(5, start=10))
    found = figures()
    assert found[("rekisteri_import_rows_total", ("action", "created"))] == 3
    assert found[("rekisteri_import_rows_total", ("action", "updated"))] == 0
    assert found[("rekisteri_import_batches", ("state", ImportBatch.State.DONE))] == 1
    assert found[("rekisteri_import_batches", ("state", ImportBatch.State.PREVIEWED))] == 1


def test_a_scrape_reads_the_database_in_five_queries(
    register_a,
    handler_a,
    django_assert_num_queries,
    broker_in_memory,
):
    steps.in_triage(register_a, handler_a)
    with django_assert_num_queries(5):
        figures()


def test_a_database_that_fails_half_way_leaves_all_its_figures_out(caplog, broker_in_memory):
    queries = []

    def third_query_fails(execute, sql, params, many, context):
        queries.append(sql)
        if len(queries) == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(third_query_fails), caplog.at_level(logging.WARNING, logger="ops.metrics"):
        found = figures()
    assert found == {("rekisteri_scrape_source_up", ("source", "database")): 0}
    assert "database not read: OperationalError" in caplog.text


def test_each_family_is_named_once(broker_in_memory):
    # A name twice in one exposition makes Prometheus refuse the whole scrape.
    names = family_names()
    assert len(names) == len(set(names))


def test_in_process_tasks_have_no_broker_to_measure(broker_in_memory):
    found = figures()
    assert not [key for key in found if key[0].startswith("rekisteri_celery_")]
    assert ("rekisteri_scrape_source_up", ("source", "broker")) not in found


def test_the_queues_are_measured_with_their_priority_lists(redis_broker, settings):
    queues = settings.CELERY_QUEUES_BY_KIND
    redis_broker.lpush(queues["pdf"], "a", "b")
    # kombu's list for priority 9 of the same queue.
    redis_broker.lpush(f"{queues['pdf']}\x06\x169", "c")
    redis_broker.lpush(queues["mail"], "d")
    found = figures()
    assert found[("rekisteri_scrape_source_up", ("source", "broker"))] == 1
    lengths = {dict(labels)["kind"]: value for (name, *labels), value in found.items() if name.endswith("queue_length")}
    assert lengths == {"default": 0, "pdf": 3, "mail": 1, "purge": 0, "ingest": 0, "import": 0}
    assert found[("rekisteri_celery_queue_length", ("kind", "pdf"), ("queue", queues["pdf"]))] == 3


def test_failed_tasks_are_counted_in_the_broker_for_every_node_to_see(redis_broker, settings):
    fails.apply(throw=False)
    fails.apply(throw=False)
    # Kept where any web node's scrape reads it, whichever machine's worker counted.
    key = f"{settings.CELERY_QUEUE_PREFIX}rekisteri:task-failures"
    assert redis_broker.hgetall(key) == {b"tests.ops.fails": b"2"}
    assert figures()[("rekisteri_celery_task_failures_total", ("task", "tests.ops.fails"))] == 2


def test_a_broker_that_is_down_leaves_its_figures_out_and_loses_only_the_count(broker_down, caplog):
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="ops.metrics"):
        fails.apply(throw=False)  # counted nowhere, and the worker goes on
        found = figures()
    # Given up at the first refusal, not retried while the scraper (or the worker) waits.
    assert time.monotonic() - started < 1
    assert found[("rekisteri_scrape_source_up", ("source", "broker"))] == 0
    assert not [key for key in found if key[0].startswith("rekisteri_celery_")]
    assert found[("rekisteri_scrape_source_up", ("source", "database"))] == 1
    assert "failure of task tests.ops.fails not counted" in caplog.text
