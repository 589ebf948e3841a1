"""The statistics page counts with a fixed number of aggregate queries whatever the register's size (issue 14)."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncMonth, TruncQuarter
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from crm.models import Customer, Interaction
from privacy.statistics.selectors import MONTH, QUARTER, YEAR, register_statistics
from registers.models import Role

from ...conftest import grant
from ...factories import CustomerFactory, InteractionFactory, RegisterFactory, UserFactory
from ..retention_helpers import open_request_for

pytestmark = pytest.mark.django_db
YEAR_SHOWN = 2025
KINDS = [Interaction.Kind.MEETING, Interaction.Kind.CALL_IN, Interaction.Kind.PURCHASED_SERVICE]


def local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))  # noqa: DTZ001


def fill(register, customers: int) -> None:
    for n in range(customers):
        customer = CustomerFactory(register=register, created_at=local(YEAR_SHOWN - n % 3, n % 12 + 1, 5))
        for k, kind in enumerate(KINDS):
            InteractionFactory(customer=customer, kind=kind, occurred_at=local(YEAR_SHOWN, (n + k) % 12 + 1, 9))


def page_queries(client, register, query: str) -> int:
    owner = UserFactory(username=f"owner-{register.slug}")
    grant(owner, register, Role.OWNER)
    handler = UserFactory(username=f"handler-{register.slug}")
    grant(handler, register, Role.HANDLER)
    open_request_for(owner=owner, handler=handler, register=register)
    client.force_login(owner)
    url = f"/registers/{register.slug}/statistics/{query}"
    client.get(url)  # Session and the sign-in gates settle on the first request.
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("query", ["", f"?period=month&year={YEAR_SHOWN}", f"?period=year&year={YEAR_SHOWN}"])
def test_the_page_reads_as_many_queries_for_30_customers_as_for_3(client, query):
    small, large = RegisterFactory(slug="small"), RegisterFactory(slug="large")
    fill(small, 3)
    fill(large, 30)
    assert page_queries(client, large, query) == page_queries(client, small, query)


@pytest.mark.parametrize("granularity", [MONTH, QUARTER, YEAR])
def test_one_query_per_kind_of_row(register_a, granularity, django_assert_num_queries):
    fill(register_a, 5)
    # Customers (with those before the first period), interactions of every kind, requests by kind and outcome.
    with django_assert_num_queries(3):
        register_statistics(register=register_a, granularity=granularity, year=YEAR_SHOWN)


def test_rows_on_period_edges_fall_where_local_time_truncation_puts_them(register_a):
    """The periods are compared with their first instants: the same months as truncating local times."""
    customer = CustomerFactory(register=register_a, created_at=local(YEAR_SHOWN - 1, 12, 31, 23, 59, 59, 999999))
    edges = [
        local(YEAR_SHOWN, 1, 1),
        local(YEAR_SHOWN, 3, 31, 23, 59, 59, 999999),
        local(YEAR_SHOWN, 4, 1),  # Summer time began on 30 March.
        local(YEAR_SHOWN, 10, 26, 3, 30),  # The hour that occurs twice when summer time ends.
        local(YEAR_SHOWN, 11, 1),
        local(YEAR_SHOWN, 12, 31, 23, 59, 59, 999999),
    ]
    for at in edges:
        for _ in range(5):
            InteractionFactory(customer=customer, kind=Interaction.Kind.MEETING, occurred_at=at)
    CustomerFactory(register=register_a, created_at=local(YEAR_SHOWN, 1, 1))
    interactions = Interaction.objects.filter(customer__register=register_a)
    for granularity, trunc in ((MONTH, TruncMonth), (QUARTER, TruncQuarter)):
        with translation.override("en"):
            statistics = register_statistics(register=register_a, granularity=granularity, year=YEAR_SHOWN)
        expected = {
            timezone.localtime(row["period"]).date() if hasattr(row["period"], "hour") else row["period"]: row["n"]
            for row in interactions.annotate(period=trunc("occurred_at")).values("period").annotate(n=Count("pk"))
        }
        rows = next(t for t in statistics["tables"] if t.key == "interactions").rows
        meetings = next(row for row in rows if row.label == "meeting")
        assert meetings.cells == [expected.get(p.start, 0) for p in statistics["periods"]]
        customers = next(t for t in statistics["tables"] if t.key == "customers").rows[1]
        # The customer of the last instant of the year before is not new in the year; the one of its first is.
        first = [p.start for p in statistics["periods"]].index(datetime.date(YEAR_SHOWN, 1, 1))
        assert customers.cells[first] is None
        assert sum(c or 0 for c in customers.cells) == 0
    assert Customer.objects.filter(register=register_a).count() == 2
