import datetime
import io
import json
import logging
import threading

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import connection
from django.utils import timezone

from crm.models import CallRecording, ContactCentreMessage, ContactPerson, Customer, Interaction, Invoice
from privacy.retention.models import HoldType, PurgeCount, PurgeKind, PurgeRun
from privacy.retention.purge import REDACTED_REPR, REDACTED_VALUE, PurgeLock, purge_run, purge_run_task

from ...factories import (
    CallRecordingFactory,
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    CustomerFactory,
    InvoiceFactory,
    OrderingClientFactory,
)
from ..retention_helpers import idle_customer, long_ago, open_request_for

pytestmark = pytest.mark.django_db


def children_of(customer_pk) -> tuple[int, int, int]:
    return (
        ContactPerson.objects.filter(customer_id=customer_pk).count(),
        Interaction.objects.filter(customer_id=customer_pk).count(),
        Invoice.objects.filter(customer_id=customer_pk).count(),
    )


def run(**kwargs) -> PurgeRun:
    return purge_run(trigger=PurgeRun.Trigger.COMMAND, **kwargs)


def test_a_run_purges_idle_customers_with_everything_under_them(register_a):
    idle = idle_customer(register_a)
    active = CustomerFactory(register=register_a)
    result = run()
    assert result.status == PurgeRun.Status.COMPLETED
    assert not Customer.objects.filter(pk=idle.pk).exists()
    assert children_of(idle.pk) == (0, 0, 0)
    assert Customer.objects.filter(pk=active.pk).exists()
    count = PurgeCount.objects.get(run=result, register=register_a, kind=PurgeKind.CUSTOMER)
    assert (count.due, count.purged, count.held) == (1, 1, {})
    assert count.cascaded == {"crm.contactperson": 1, "crm.interaction": 2, "crm.invoice": 1}
    assert list(result.status_changes.values_list("old", "new")) == [("running", "completed")]


def test_held_customers_stay_and_the_run_counts_them_per_hold(register_a, owner_a, handler_a):
    with_invoice = idle_customer(register_a)
    InvoiceFactory(customer=with_invoice, status="in_collection")
    with_request = idle_customer(register_a)
    open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=with_request)
    idle_customer(register_a)
    result = run()
    assert set(Customer.objects.filter(register=register_a).values_list("pk", flat=True)) == {
        with_invoice.pk,
        with_request.pk,
    }
    assert children_of(with_invoice.pk) == (1, 2, 2)
    count = PurgeCount.objects.get(run=result, register=register_a, kind=PurgeKind.CUSTOMER)
    assert (count.due, count.purged) == (3, 1)
    assert count.held == {HoldType.OPEN_INVOICE: 1, HoldType.OPEN_REQUEST: 1}


def test_a_register_without_retention_rule_purges_nothing(register_a):
    register_a.retention_months = None
    register_a.save()
    idle = idle_customer(register_a, months=240)
    result = run()
    assert result.status == PurgeRun.Status.COMPLETED
    assert Customer.objects.filter(pk=idle.pk).exists()
    assert children_of(idle.pk) == (1, 2, 1)
    assert not PurgeCount.objects.filter(register=register_a).exists()


def test_a_second_run_finds_nothing_left(register_a):
    idle_customer(register_a)
    run()
    second = run()
    count = PurgeCount.objects.get(run=second, register=register_a, kind=PurgeKind.CUSTOMER)
    assert (count.due, count.purged) == (0, 0)
    assert second.batches == 0


def test_the_run_record_holds_no_personal_data(register_a):
    idle = idle_customer(register_a, organisation_name="Salaisuus Oy", email="salainen@example.fi")
    result = run()
    dumped = serializers.serialize("json", [result, *result.counts.all(), *result.status_changes.all()])
    for value in ("Salaisuus", "salainen@example.fi", str(idle.code)):
        assert value not in dumped


def test_purged_records_leave_no_personal_data_in_the_audit_log(register_a, staff_a):
    with set_actor(staff_a):
        idle = idle_customer(register_a, organisation_name="Salaisuus Oy", email="salainen@example.fi")
        idle.city = "Kemi"
        idle.save()
    content_type = ContentType.objects.get_for_model(Customer)
    before = list(
        LogEntry.objects.filter(content_type=content_type, object_id=idle.pk)
        .order_by("pk")
        .values_list("pk", "action", "timestamp", "actor_id")
    )
    assert len(before) == 2

    result = run()

    entries = LogEntry.objects.filter(content_type=content_type, object_id=idle.pk).order_by("pk")
    # Action, time and actor of the old entries stay; then one DELETE entry per purged row.
    assert list(entries.values_list("pk", "action", "timestamp", "actor_id"))[:2] == before
    deletion = entries.last()
    assert deletion.action == LogEntry.Action.DELETE
    assert deletion.actor is None
    assert deletion.additional_data == {"purge_run": str(result.code), "reason": "retention", "register": register_a.pk}
    created = entries.first()
    assert created.object_repr == REDACTED_REPR
    assert "organisation_name" in created.changes
    assert set(map(tuple, created.changes.values())) == {(REDACTED_VALUE, REDACTED_VALUE)}
    every_entry = json.dumps(list(LogEntry.objects.values()), default=str)
    for value in ("Salaisuus", "salainen@example.fi", "Kemi"):
        assert value not in every_entry
    interaction_type = ContentType.objects.get_for_model(Interaction)
    assert LogEntry.objects.filter(content_type=interaction_type, action=LogEntry.Action.DELETE).count() == 2


def test_a_crash_mid_run_leaves_no_half_deleted_customer_and_the_next_run_completes(register_a):
    customers = [idle_customer(register_a) for _ in range(5)]
    batches = []

    def crash_in_second_batch(**kwargs):
        batches.append(kwargs["pks"])
        if len(batches) == 2:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        run(batch_size=2, on_batch=crash_in_second_batch)

    failed = PurgeRun.objects.get()
    assert failed.status == PurgeRun.Status.FAILED
    assert failed.note == "RuntimeError"
    remaining = set(Customer.objects.values_list("pk", flat=True))
    # The first batch committed; the second rolled back whole; the rest was never reached.
    assert remaining == {c.pk for c in customers} - set(batches[0])
    for pk in remaining:
        assert children_of(pk) == (1, 2, 1)
    assert PurgeCount.objects.get(run=failed).purged == 2

    completed = run(batch_size=2)
    assert completed.status == PurgeRun.Status.COMPLETED
    assert not Customer.objects.exists()
    assert not Interaction.objects.exists()
    assert PurgeCount.objects.get(run=completed).purged == 3


def test_a_run_left_running_by_a_killed_worker_is_marked_interrupted(register_a):
    killed = PurgeRun.objects.create(trigger=PurgeRun.Trigger.SCHEDULE)
    idle_customer(register_a)
    run()
    killed.refresh_from_db()
    assert killed.status == PurgeRun.Status.INTERRUPTED
    assert killed.finished_at is not None
    assert not Customer.objects.exists()


def test_redis_down_when_beat_fires_skips_the_run_and_logs_it(register_a, settings, caplog):
    # Nothing listens on port 1: the lock service is unreachable.
    settings.PURGE_LOCK_URL = "redis://127.0.0.1:1/0"
    idle = idle_customer(register_a)
    with caplog.at_level(logging.ERROR, logger="privacy.purge"):
        code = purge_run_task()
    skipped = PurgeRun.objects.get(code=code)
    assert skipped.status == PurgeRun.Status.SKIPPED
    assert skipped.trigger == PurgeRun.Trigger.SCHEDULE
    assert "lock unavailable" in skipped.note
    assert "Retention purge skipped" in caplog.text
    assert Customer.objects.filter(pk=idle.pk).exists()
    assert children_of(idle.pk) == (1, 2, 1)
    # Nothing is lost: the next run with Redis back does the work.
    settings.PURGE_LOCK_URL = ""
    assert run().status == PurgeRun.Status.COMPLETED
    assert not Customer.objects.filter(pk=idle.pk).exists()


def test_a_run_exits_while_another_holds_the_lock(register_a):
    idle = idle_customer(register_a)
    other = PurgeLock()
    assert other.acquire()
    try:
        assert run() is None
    finally:
        other.release()
    assert Customer.objects.filter(pk=idle.pk).exists()
    assert not PurgeRun.objects.exists()


@pytest.mark.postgres
@pytest.mark.skipif(not settings.PURGE_LOCK_URL, reason="needs the real Redis lock (REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_two_workers_starting_at_once_run_the_purge_once(register_a):
    for _ in range(8):
        idle_customer(register_a)
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            # One customer per batch with a pause keeps the first run busy while the second starts.
            results.append(run(batch_size=1, on_batch=lambda **kwargs: threading.Event().wait(0.05)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r is None for r in results) == [False, True]
    assert PurgeRun.objects.get().status == PurgeRun.Status.COMPLETED
    assert not Customer.objects.exists()


def test_call_recordings_are_purged_after_six_months_with_a_redacted_trail(settings):
    settings.CALL_RECORDING_RETENTION_MONTHS = 6
    client = OrderingClientFactory()
    old = CallRecordingFactory(ordering_client=client, recorded_at=long_ago(7), caller_number_fragment="9876")
    recent = CallRecordingFactory(ordering_client=client, recorded_at=long_ago(5))
    result = run()
    assert list(CallRecording.objects.values_list("pk", flat=True)) == [recent.pk]
    count = PurgeCount.objects.get(run=result, kind=PurgeKind.CALL_RECORDING)
    assert count.purged == 1
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(CallRecording), object_id=old.pk)
    assert "9876" not in json.dumps(list(entries.values()), default=str)


def test_messages_go_when_the_client_relationship_and_grace_period_have_ended(settings, owner_a, handler_a):
    settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS = 30
    register = ContactCentreRegisterFactory()
    gone = OrderingClientFactory(register=register, active_until=timezone.localdate() - datetime.timedelta(days=40))
    current = OrderingClientFactory(register=register)
    old_message = ContactCentreMessageFactory(ordering_client=gone, sent_at=long_ago(3))
    kept = ContactCentreMessageFactory(ordering_client=current, sent_at=long_ago(30))
    run()
    assert list(ContactCentreMessage.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not ContactCentreMessage.objects.filter(pk=old_message.pk).exists()


def test_a_legal_hold_on_the_archive_keeps_recordings(settings, owner_a):
    from privacy.retention.holds import legal_hold_place

    client = OrderingClientFactory()
    CallRecordingFactory(ordering_client=client, recorded_at=long_ago(12))
    legal_hold_place(
        actor=owner_a,
        register=client.register,
        reason="Complaint under investigation",
        ends_on=timezone.localdate() + datetime.timedelta(days=10),
    )
    result = run()
    assert CallRecording.objects.count() == 1
    count = PurgeCount.objects.get(run=result, kind=PurgeKind.CALL_RECORDING)
    assert (count.purged, count.held) == (0, {HoldType.LEGAL_HOLD: 1})


def test_the_run_is_limited_to_one_register_when_asked(register_a, register_b):
    idle_a = idle_customer(register_a)
    idle_b = idle_customer(register_b)
    result = run(register=register_a)
    assert not Customer.objects.filter(pk=idle_a.pk).exists()
    assert Customer.objects.filter(pk=idle_b.pk).exists()
    assert result.register == register_a


def test_the_command_dry_run_prints_counts_and_changes_nothing(register_a):
    from django.core.management import call_command

    idle = idle_customer(register_a, organisation_name="Salaisuus Oy")
    InvoiceFactory(customer=idle_customer(register_a), status="open")
    out = io.StringIO()
    call_command("purge", "--dry-run", "--register", register_a.slug, stdout=out)
    output = out.getvalue()
    assert "due       2  would purge       1  held open_invoice=1" in output
    assert "Salaisuus" not in output
    assert Customer.objects.filter(pk=idle.pk).exists()
    assert not PurgeRun.objects.exists()


def test_the_command_purges_one_register(register_a, register_b):
    from django.core.management import call_command

    idle_a = idle_customer(register_a)
    idle_b = idle_customer(register_b)
    out = io.StringIO()
    call_command("purge", "--register", register_a.slug, stdout=out)
    assert "completed" in out.getvalue()
    assert not Customer.objects.filter(pk=idle_a.pk).exists()
    assert Customer.objects.filter(pk=idle_b.pk).exists()
