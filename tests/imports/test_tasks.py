"""The commit of an import batch: what it writes, its audit trail, its queries, and a resumed run."""

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from imports import services
from imports.models import ImportBatch, ImportedRecord, ImportEvent
from imports.tasks import import_commit

from ..factories import CustomerFactory
from .helpers import business_id, committed_batch, english, organisation_rows, previewed_batch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]

State = ImportBatch.State


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


def entries(register, action):
    return LogEntry.objects.filter(additional_data__register=register.pk, action=action, content_type__model="customer")


def test_the_commit_creates_and_updates_customers_with_audit_entries(handler_a, register_a):
    existing = CustomerFactory(register=register_a, business_id=business_id(1), city="", email="")
    rows = [*organisation_rows(1), ["Vanha Oy", business_id(1), "", "Kemi"]]

    batch = committed_batch(
        actor=handler_a, register=register_a, rows=rows, match_mode=ImportBatch.MatchMode.FILL_EMPTY
    )

    assert (batch.state, batch.rows, batch.created, batch.updated, batch.progress) == (State.DONE, 2, 1, 1, 2)
    assert not batch.file
    created = Customer.objects.get(business_id=business_id(0))
    existing.refresh_from_db()
    assert (created.source, existing.source, existing.city, existing.version) == ("imported", "imported", "Kemi", 2)
    record = ImportedRecord.objects.get(batch=batch, action="updated")
    assert record.old_values == {"city": "", "source": "staff"}
    create_entry = entries(register_a, LogEntry.Action.CREATE).get(object_id=created.pk)
    update_entry = entries(register_a, LogEntry.Action.UPDATE).get(object_id=existing.pk)
    assert create_entry.actor == update_entry.actor == handler_a
    assert update_entry.changes["city"] == ["", "Kemi"]
    assert create_entry.additional_data["import_batch"] == str(batch.code)
    assert list(batch.events.values_list("old", "new")) == [
        ("", State.PREVIEWED),
        (State.PREVIEWED, State.PREVIEWING),
        (State.PREVIEWING, State.PREVIEWED),
        (State.PREVIEWED, State.QUEUED),
        (State.QUEUED, State.RUNNING),
        (State.RUNNING, State.DONE),
    ]


def test_import_start_queues_the_task_after_commit(handler_a, register_a, django_capture_on_commit_callbacks):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(3))

    with django_capture_on_commit_callbacks(execute=True):
        services.import_start(actor=handler_a, batch=batch)

    batch.refresh_from_db()
    assert (batch.state, batch.created) == (State.DONE, 3)


def test_the_commit_makes_a_constant_number_of_queries_per_chunk(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "COMMIT_CHUNK", 5)

    def queries(rows, first):
        # Half the rows update stored customers, half create new ones.
        for n in range(first, first + rows, 2):
            CustomerFactory(register=register_a, business_id=business_id(n), city="")
        batch = previewed_batch(
            actor=handler_a,
            register=register_a,
            rows=organisation_rows(rows, start=first),
            match_mode=ImportBatch.MatchMode.OVERWRITE,
        )
        services.import_transition(batch=batch, to=State.QUEUED, actor=handler_a)
        with CaptureQueriesContext(connection) as captured:
            batch = services.import_commit_run(batch_id=batch.pk)
        assert batch.created + batch.updated == rows
        return len(captured)

    one, three = queries(5, 0), queries(15, 100)
    monkeypatch.setattr(services, "COMMIT_CHUNK", 10)
    three_larger = queries(30, 200)

    per_chunk = (three - one) / 2
    assert per_chunk == int(per_chunk)
    # Each chunk's audit entries are linked in the audit chain in one batch (4 queries, registers.audit_chain).
    assert per_chunk <= 16
    assert three_larger == three


def test_a_run_resumed_after_a_crash_applies_each_row_once(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "COMMIT_CHUNK", 4)
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(10))
    services.import_transition(batch=batch, to=State.QUEUED, actor=handler_a)
    commit_chunk = services._commit_chunk
    calls = []

    def killed_after_first_chunk(**kwargs):
        if calls:
            raise WorkerKilled
        calls.append(1)
        return commit_chunk(**kwargs)

    monkeypatch.setattr(services, "_commit_chunk", killed_after_first_chunk)
    with pytest.raises(WorkerKilled):
        import_commit.apply(args=[batch.pk])
    batch.refresh_from_db()
    assert (batch.state, batch.progress, batch.created) == (State.RUNNING, 4, 4)

    monkeypatch.setattr(services, "_commit_chunk", commit_chunk)
    import_commit.apply(args=[batch.pk])  # the broker's second delivery (acks_late)
    import_commit.apply(args=[batch.pk])  # and a third: a finished batch is left alone

    batch.refresh_from_db()
    assert (batch.state, batch.progress, batch.created) == (State.DONE, 10, 10)
    assert Customer.objects.filter(register=register_a).count() == 10
    assert ImportedRecord.objects.filter(batch=batch).count() == 10
    assert entries(register_a, LogEntry.Action.CREATE).count() == 10
    assert batch.events.filter(note=ImportEvent.Note.RESUMED).get().payload == {"rows_done": 4}


def test_a_chunk_already_applied_by_another_run_is_not_applied_again(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "COMMIT_CHUNK", 4)
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(4))
    services.import_transition(batch=batch, to=State.QUEUED, actor=handler_a)
    services.import_transition(batch=batch, to=State.RUNNING)
    ImportBatch.objects.filter(pk=batch.pk).update(progress=4)  # another worker got there first

    planner = services.ChunkPlanner(register=register_a, mapping=batch.column_fields, headers=[], match_mode="skip")
    applied = services._commit_chunk(batch_pk=batch.pk, position=0, chunk=[], planner=planner, actor=handler_a)

    assert applied is False


def test_a_run_that_stops_on_an_error_fails_saying_how_many_rows_were_applied(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "COMMIT_CHUNK", 3)
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(7))
    services.import_transition(batch=batch, to=State.QUEUED, actor=handler_a)
    commit_chunk = services._commit_chunk

    def broken_second_chunk(**kwargs):
        if kwargs["position"] == 3:
            raise RuntimeError("disk full")
        return commit_chunk(**kwargs)

    monkeypatch.setattr(services, "_commit_chunk", broken_second_chunk)
    batch = services.import_commit_run(batch_id=batch.pk)

    assert batch.state == State.FAILED
    assert not batch.file
    failed = batch.events.get(new=State.FAILED)
    assert (failed.note, failed.payload) == (ImportEvent.Note.ERROR, {"rows_done": 3, "applied": 3})
    assert Customer.objects.filter(register=register_a).count() == 3


def test_a_batch_whose_importer_lost_the_right_fails_without_writing(handler_a, register_a):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(2))
    services.import_transition(batch=batch, to=State.QUEUED, actor=handler_a)
    from registers.models import Membership

    Membership.objects.filter(user=handler_a).delete()

    batch = services.import_commit_run(batch_id=batch.pk)

    assert batch.state == State.FAILED
    assert not Customer.objects.filter(register=register_a).exists()
