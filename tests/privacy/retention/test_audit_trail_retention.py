"""The audit trail's own retention: each register's entries go after the months its description sets, login logs
after LOGIN_LOG_RETENTION_DAYS, and the chain and the anchors record each removal (issue 22)."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from axes.models import AccessFailureLog, AccessLog
from django.utils import timezone

from privacy.retention.models import PurgeCount, PurgeKind
from privacy.retention.purge import purge_run
from registers import audit_chain
from registers.models import AuditChainLink

from ...factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _entry(customer, *, days_ago: int) -> LogEntry:
    return LogEntry.objects.create(
        content_type_id=_content_type(customer),
        object_pk=str(customer.pk),
        object_id=customer.pk,
        object_repr="a customer",
        action=LogEntry.Action.ACCESS,
        timestamp=timezone.now() - datetime.timedelta(days=days_ago),
        additional_data={"register": customer.register_id},
    )


def _content_type(obj) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


def test_entries_older_than_the_registers_trail_retention_go_and_the_chain_records_it(settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = tmp_path
    short = CustomerFactory(register__audit_retention_months=12)
    long = CustomerFactory(register__audit_retention_months=60)
    old_short = _entry(short, days_ago=400)
    recent_short = _entry(short, days_ago=300)
    old_long = _entry(long, days_ago=400)

    run = purge_run(trigger="command")

    assert not LogEntry.objects.filter(pk=old_short.pk).exists()
    assert LogEntry.objects.filter(pk__in=[recent_short.pk, old_long.pk]).count() == 2
    count = PurgeCount.objects.get(run=run, kind=PurgeKind.AUDIT_ENTRY, register=short.register)
    assert (count.due, count.purged) == (1, 1)
    assert not PurgeCount.objects.filter(run=run, kind=PurgeKind.AUDIT_ENTRY, register=long.register).exists()
    removal = AuditChainLink.objects.get(stream="auditlog.logentry", object_id=old_short.pk, reason="delete")
    anchors = [json.loads(line) for line in (tmp_path / "anchors.jsonl").read_text().splitlines()]
    mine = next(a for a in anchors if a["stream"] == "auditlog.logentry")
    assert mine["note"] == f"retention purge {run.code}"
    assert mine["seq"] >= removal.seq
    reports, anchor_problems = audit_chain.audit_verify()
    assert all(r.ok for r in reports)
    assert anchor_problems == []


def test_login_logs_past_their_retention_go(settings):
    settings.LOGIN_LOG_RETENTION_DAYS = 30
    old = timezone.now() - datetime.timedelta(days=31)
    AccessLog.objects.create(username="vanha", ip_address="10.0.0.1")
    AccessLog.objects.create(username="uusi", ip_address="10.0.0.1")
    AccessFailureLog.objects.create(username="vanha", ip_address="10.0.0.1", locked_out=False)
    # attempt_time is set on creation only: aged through the chain, as the application would change it.
    for model in (AccessLog, AccessFailureLog):
        audit_chain.chained_update(model.objects.filter(username="vanha"), attempt_time=old)
    run = purge_run(trigger="command")
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["uusi"]
    assert not AccessFailureLog.objects.exists()
    assert PurgeCount.objects.get(run=run, kind=PurgeKind.LOGIN_LOG).purged == 2
