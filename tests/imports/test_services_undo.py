"""Undo of an import batch: what it takes back, what it keeps and lists, and when it is refused."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.models import Customer
from crm.services import customer_update
from imports import services
from imports.models import ImportBatch, ImportedRecord
from imports.selectors import import_kept_list

from ..factories import CustomerFactory, InvoiceFactory
from ..privacy.retention_helpers import open_request_for
from .helpers import business_id, committed_batch, english, organisation_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]


def imported(actor, register, rows, match_mode=ImportBatch.MatchMode.OVERWRITE):
    return committed_batch(actor=actor, register=register, rows=rows, match_mode=match_mode)


def test_undo_deletes_created_customers_and_restores_updated_ones(handler_a, register_a):
    existing = CustomerFactory(register=register_a, business_id=business_id(1), city="Oulu", email="")
    batch = imported(handler_a, register_a, [*organisation_rows(1), ["Vanha Oy", business_id(1), "", "Kemi"]])

    result = services.import_undo(actor=handler_a, batch=batch)

    assert (result.deleted, result.restored, result.kept_count) == (1, 1, 0)
    assert list(Customer.objects.filter(register=register_a)) == [existing]
    existing.refresh_from_db()
    assert (existing.city, existing.source) == ("Oulu", "staff")
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.UNDONE
    assert batch.undone_by == handler_a
    undo_entries = LogEntry.objects.filter(additional_data__undo=True, actor=handler_a)
    assert sorted(undo_entries.values_list("action", flat=True)) == [LogEntry.Action.UPDATE, LogEntry.Action.DELETE]


def test_undo_keeps_and_lists_customers_changed_since_in_a_request_or_with_an_open_invoice(
    owner_a, handler_a, register_a
):
    for n in (1, 2, 3):
        CustomerFactory(register=register_a, business_id=business_id(n), city="")
    rows = [*organisation_rows(1), *[[f"Yritys {n}", business_id(n), "", "Kemi"] for n in (1, 2, 3)]]
    batch = imported(handler_a, register_a, rows)
    changed = Customer.objects.get(business_id=business_id(0))
    customer_update(actor=owner_a, customer=changed, data={"city": "Tornio"}, version=changed.version)
    requested = Customer.objects.get(business_id=business_id(1))
    open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=requested)
    invoiced = Customer.objects.get(business_id=business_id(2))
    InvoiceFactory(customer=invoiced)
    plain = Customer.objects.get(business_id=business_id(3))

    result = services.import_undo(actor=handler_a, batch=batch)

    assert (result.deleted, result.restored, result.kept_count) == (0, 1, 3)
    kept = {k.code: k.reasons for k in result.kept}
    assert kept == {
        str(changed.code): ["changed since the import"],
        str(requested.code): ["in an open data-subject request"],
        str(invoiced.code): ["has an open invoice or a debt in collection"],
    }
    assert [r.customer for r in import_kept_list(batch=batch)] == [changed, requested, invoiced]
    changed.refresh_from_db()
    plain.refresh_from_db()
    assert (changed.city, plain.city) == ("Tornio", "")


def test_undo_after_thirty_days_is_refused(handler_a, register_a):
    batch = imported(handler_a, register_a, organisation_rows(1))
    ImportBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now() - datetime.timedelta(days=31))
    batch.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        services.import_undo(actor=handler_a, batch=batch)

    assert refused.value.code == "undo_too_late"
    assert Customer.objects.filter(register=register_a).count() == 1


def test_an_undone_batch_cannot_be_undone_again(handler_a, register_a):
    batch = imported(handler_a, register_a, organisation_rows(1))
    services.import_undo(actor=handler_a, batch=batch)

    with pytest.raises(ValidationError, match="cannot move"):
        services.import_undo(actor=handler_a, batch=batch)


def test_staff_may_not_undo(handler_a, staff_a, register_a):
    batch = imported(handler_a, register_a, organisation_rows(1))

    with pytest.raises(PermissionDenied):
        services.import_undo(actor=staff_a, batch=batch)

    assert ImportedRecord.objects.filter(batch=batch, customer__isnull=False).count() == 1


def test_a_failed_batch_undoes_the_rows_it_applied(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "COMMIT_CHUNK", 2)
    commit_chunk = services._commit_chunk

    def broken(**kwargs):
        if kwargs["position"] == 2:
            raise RuntimeError("lost connection")
        return commit_chunk(**kwargs)

    monkeypatch.setattr(services, "_commit_chunk", broken)
    batch = imported(handler_a, register_a, organisation_rows(5))
    assert batch.state == ImportBatch.State.FAILED

    result = services.import_undo(actor=handler_a, batch=batch)

    assert result.deleted == 2
    assert not Customer.objects.filter(register=register_a).exists()
