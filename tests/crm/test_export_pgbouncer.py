"""The staff workspace and the streamed customer CSV behind pgbouncer in transaction mode (DATABASE_PGBOUNCER).

Requests are served through Debian's pgbouncer with two server connections, as settings.py configures such a
connection: no server-side cursors, no prepared statements. The data is committed first (pgbouncer's connections
cannot see the test's transaction), so this is one test of the whole round.
"""

import csv
import io

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import exports
from crm.models import Customer

from ..databases import database_settings, default_replaced, running_pgbouncer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Three chunks of the export, the last one short: chunks of 500 rows rather than 2,000, since inserting the customers
# (their trigram and other indexes) costs about a second per thousand on the test server.
CHUNK_SIZE = 500
CUSTOMERS = 1250


def bulk_customers(register) -> None:
    Customer.objects.bulk_create(
        [
            Customer(register=register, kind=Customer.Kind.ORGANISATION, organisation_name=f"Yritys {n:05d} Oy")
            for n in range(CUSTOMERS)
        ],
    )


def test_the_workspace_and_the_csv_export_work_through_pgbouncer(tmp_path, client, staff_a, register_a, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", CHUNK_SIZE)
    bulk_customers(register_a)
    first = Customer.objects.filter(register=register_a).order_by("sort_name").first()
    client.force_login(staff_a)
    with running_pgbouncer(tmp_path) as port:
        bouncer_settings = database_settings(
            HOST="127.0.0.1", PORT=str(port), DISABLE_SERVER_SIDE_CURSORS=True, OPTIONS={"prepare_threshold": None}
        )
        # pgbouncer passes no "options" startup parameter: it sets synchronous_commit itself (tests/databases.py).
        bouncer_settings["OPTIONS"].pop("options", None)
        with default_replaced(bouncer_settings) as bouncer:
            pages = [
                client.get(reverse("crm:customer-list", kwargs={"register": register_a.slug})),
                client.get(first.get_absolute_url()),
            ]
            with CaptureQueriesContext(bouncer) as captured:
                response = client.get(reverse("crm:customer-export", kwargs={"register": register_a.slug}))
                text = b"".join(response.streaming_content).decode("utf-8")
            assert bouncer.connection.info.port == port
    assert [page.status_code for page in pages] == [200, 200]
    assert "Yritys 00000 Oy" in pages[0].content.decode()
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=exports.CSV_DELIMITER))
    assert [row[1] for row in rows[1:]] == [f"Yritys {n:05d} Oy" for n in range(CUSTOMERS)]
    # Constant memory: the rows came in chunks, each a query of its own, never all in one.
    chunks = [query["sql"] for query in captured.captured_queries if f"LIMIT {CHUNK_SIZE}" in query["sql"]]
    assert len(chunks) == 3
    assert all('FROM "crm_customer"' in chunk for chunk in chunks)
