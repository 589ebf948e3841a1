"""Redacting the audit trail of erased rows (PRIVACY.md §4 item 11): the same result on PostgreSQL and SQLite.

These tests run in both modes of the README test command (with and without DATABASE_URL): PostgreSQL takes the SQL
path of `privacy.redaction`, SQLite the ORM path, and both must keep the names of the changed fields and drop the
values."""

import pytest
from auditlog.models import LogEntry
from django.db import connection

from crm import services as crm_services
from crm.models import Customer
from privacy.retention.redaction import REDACTED_VALUE, delete_with_redacted_trail

from ...factories import PersonCustomerFactory

pytestmark = pytest.mark.django_db

MARKER = {"erasure_request": "TEST-1"}


def test_the_trail_keeps_who_when_and_which_fields_and_loses_the_values(register_a, staff_a, owner_a, client):
    customer = PersonCustomerFactory(register=register_a, last_name="Poistuva", city="Kemi")
    crm_services.customer_update(
        actor=staff_a, customer=customer, data={"city": "Oulu", "extra_info": "Soittaa aamuisin"}, version=1
    )
    client.force_login(staff_a)
    client.get(customer.get_absolute_url())  # an access entry, which has no changes

    delete_with_redacted_trail(
        Customer.objects.filter(pk=customer.pk), actor_id=owner_a.pk, object_repr="[erased]", additional=MARKER
    )

    entries = LogEntry.objects.filter(content_type__model="customer", object_id=customer.pk)
    update = entries.get(action=LogEntry.Action.UPDATE)
    assert update.actor == staff_a
    assert set(update.changes) >= {"city", "extra_info"}
    assert all(value == [REDACTED_VALUE, REDACTED_VALUE] for value in update.changes.values())
    assert update.changes_text == ""
    assert update.object_repr == "[erased]"
    assert update.additional_data == {**MARKER, "register": register_a.pk}
    assert entries.get(action=LogEntry.Action.ACCESS).changes is None
    assert entries.filter(action=LogEntry.Action.DELETE, actor=owner_a).count() == 1
    stored = " ".join(str(e.changes) + e.object_repr + str(e.serialized_data) for e in entries)
    for value in ("Poistuva", "Kemi", "Oulu", "aamuisin"):
        assert value not in stored
    # Tells which path produced this result, so a run on each database covers both.
    assert connection.vendor in {"postgresql", "sqlite"}
