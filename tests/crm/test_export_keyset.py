"""Exports read in keyset chunks (crm.exports.keyset_rows): each chunk a query of its own, none skipped or repeated.

A chunk is a short query that continues after the last key, so the download holds no cursor and no transaction
open (pgbouncer in transaction mode; tests/crm/test_export_pgbouncer.py runs it through one).
"""

import datetime

import pytest
from django.db import OperationalError, connections
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import exports, selectors
from crm.models import Customer
from registers import replica
from registers.models import Role

from ..conftest import grant
from ..databases import database_alias
from ..factories import ContactCentreMessageFactory, CustomerFactory, OrderingClientFactory, UserFactory
from .test_exports import read_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Ties on the name cross every chunk boundary at two rows a chunk: only the id tells them apart.
NAMES = ["Aalto Oy", "Sama Oy", "Sama Oy", "Sama Oy", "Sama Oy", "Sama Oy", "Öljy Oy"]


def chunk_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if 'FROM "crm_customer"' in query["sql"]]


def test_it_reads_every_row_once_in_the_exports_order(register_a):
    for name in NAMES:
        CustomerFactory(register=register_a, organisation_name=name)
    rows = exports.customer_values(Customer.objects.filter(register=register_a), exports.customer_columns(register_a))
    with CaptureQueriesContext(connections["default"]) as captured:
        chunked = list(exports.keyset_rows(rows, chunk_size=2))
    assert chunked == list(rows)
    assert [row[1] for row in chunked] == NAMES
    # 2 + 2 + 2 + 1 rows: four queries, each of at most two rows.
    assert len(captured.captured_queries) == 4
    assert all("LIMIT 2" in query for query in chunk_queries(captured))


def test_the_archive_export_continues_newest_first_after_the_last_key(client, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    department = OrderingClientFactory()
    expert = UserFactory()
    grant(expert, department.register, Role.CONTACT_CENTRE_EXPERT)
    sent = timezone.now().replace(microsecond=0)
    for number, minutes in enumerate((0, 0, 0, 5, 5, 9)):
        ContactCentreMessageFactory(
            ordering_client=department, sent_at=sent - datetime.timedelta(minutes=minutes), subject=f"Viesti {number}"
        )
    rows = selectors.message_export_values(selectors.message_list(user=expert, register=department.register))
    assert list(exports.keyset_rows(rows)) == list(rows)
    client.force_login(expert)
    exported = read_csv(client.get(reverse("crm:message-export", kwargs={"register": department.register.slug})))
    assert [row[5] for row in exported[1:]] == [row[5] for row in rows]
    assert len(exported) == 7


def test_an_order_without_the_primary_key_gets_it(register_a):
    for name in NAMES:
        CustomerFactory(register=register_a, organisation_name=name)
    rows = Customer.objects.filter(register=register_a).order_by("sort_name").values_list("organisation_name")
    assert [row[0] for row in exports.keyset_rows(rows, chunk_size=2)] == NAMES


def test_an_order_by_expression_is_refused():
    rows = Customer.objects.order_by(F("sort_name").desc()).values_list("pk")
    with pytest.raises(ValueError, match="fields to order by"):
        next(exports.keyset_rows(rows))


def test_the_customer_csv_is_read_in_chunks(client, staff_a, register_a, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    for name in NAMES:
        CustomerFactory(register=register_a, organisation_name=name)
    client.force_login(staff_a)
    with CaptureQueriesContext(connections["default"]) as captured:
        rows = read_csv(client.get(reverse("crm:customer-export", kwargs={"register": register_a.slug})))
    assert [row[1] for row in rows[1:]] == NAMES
    assert sum("LIMIT 2" in query for query in chunk_queries(captured)) == 4


def test_a_chunk_the_replica_fails_is_read_from_the_primary(client, staff_a, register_a, monkeypatch):
    """The replica stops in the middle of a download: the rest of the file comes from the primary."""
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    monkeypatch.setattr(replica, "_down_until", 0.0)
    for name in NAMES:
        CustomerFactory(register=register_a, organisation_name=name)
    client.force_login(staff_a)
    served = []

    def second_chunk_fails(execute, statement, params, many, context):
        if "LIMIT" in statement:
            served.append(statement)
            if len(served) == 2:
                raise OperationalError("the replica went away")
        return execute(statement, params, many, context)

    with database_alias(replica.REPLICA, shared=True) as replica_db, replica_db.execute_wrapper(second_chunk_fails):
        response = client.get(reverse("crm:customer-export", kwargs={"register": register_a.slug}))
        rows = read_csv(response)
    assert [row[1] for row in rows[1:]] == NAMES
    assert len(served) == 2
    assert replica.is_down()
