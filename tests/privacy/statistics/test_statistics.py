import csv
import datetime
import io
import re

import pytest
from django.utils import timezone, translation

from crm.models import Interaction
from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition
from privacy.statistics.selectors import MONTH, YEAR, register_statistics, suppress

from ...factories import CustomerFactory, InteractionFactory
from ..retention_helpers import open_request_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Row labels are translated when the tables are built; compare with the source strings.
    with translation.override("en"):
        yield


YEAR_SHOWN = 2025


def at(month: int, day: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(YEAR_SHOWN, month, day, 12))  # noqa: DTZ001


def table(statistics, key):
    return next(t for t in statistics["tables"] if t.key == key)


def row(statistics, key, label):
    return next(r for r in table(statistics, key).rows if r.label == label)


def test_small_counts_are_suppressed_and_larger_ones_shown(register_a):
    for _ in range(3):
        CustomerFactory(register=register_a, created_at=at(2))
    for _ in range(6):
        CustomerFactory(register=register_a, created_at=at(3))
    statistics = register_statistics(register=register_a, granularity=MONTH, year=YEAR_SHOWN)
    new = row(statistics, "customers", "New customers")
    assert new.cells[:4] == [0, None, 6, 0]
    # One hidden cell and a shown total would give it away, so the total is hidden too.
    assert new.total is None


def test_the_threshold_is_configurable(register_a, settings):
    settings.STATISTICS_MIN_CELL = 2
    for _ in range(3):
        CustomerFactory(register=register_a, created_at=at(2))
    statistics = register_statistics(register=register_a, granularity=MONTH, year=YEAR_SHOWN)
    assert row(statistics, "customers", "New customers").cells[1] == 3
    assert suppress(1) is None


def test_the_customer_total_is_rounded_so_differences_hide_small_counts(register_a):
    for _ in range(12):
        CustomerFactory(register=register_a, created_at=at(1))
    for _ in range(2):
        CustomerFactory(register=register_a, created_at=at(2))
    statistics = register_statistics(register=register_a, granularity=MONTH, year=YEAR_SHOWN)
    stock = table(statistics, "customers").rows[0]
    assert stock.cells[:2] == [10, 10]


def test_interactions_are_counted_by_kind_and_purchased_services_apart(register_a):
    customer = CustomerFactory(register=register_a)
    for _ in range(5):
        InteractionFactory(customer=customer, kind=Interaction.Kind.MEETING, occurred_at=at(4))
    for _ in range(7):
        InteractionFactory(customer=customer, kind=Interaction.Kind.PURCHASED_SERVICE, occurred_at=at(4))
    InteractionFactory(customer=customer, kind=Interaction.Kind.CALL_IN, occurred_at=at(4))
    statistics = register_statistics(register=register_a, granularity=MONTH, year=YEAR_SHOWN)
    assert row(statistics, "interactions", "meeting").cells[3] == 5
    assert row(statistics, "interactions", "incoming call").cells[3] is None
    labels = [r.label for r in table(statistics, "interactions").rows]
    assert "purchased service" not in labels
    assert row(statistics, "services", "Purchased services").cells[3] == 7


def test_yearly_statistics_cover_five_years(register_a):
    customer = CustomerFactory(register=register_a, created_at=at(1))
    for year in (2023, 2025):
        for _ in range(5):
            InteractionFactory(
                customer=customer,
                kind=Interaction.Kind.EVENT,
                occurred_at=timezone.make_aware(datetime.datetime(year, 6, 1)),  # noqa: DTZ001
            )
    statistics = register_statistics(register=register_a, granularity=YEAR, year=YEAR_SHOWN)
    assert [p.label for p in statistics["periods"]] == ["2021", "2022", "2023", "2024", "2025"]
    events = row(statistics, "interactions", "event")
    assert events.cells == [0, 0, 5, 0, 5]
    assert events.total == 10


def test_data_subject_requests_are_counted_by_type_and_outcome(register_a, owner_a, handler_a):
    requests = [
        open_request_for(owner=owner_a, handler=handler_a, register=register_a, kind=DataSubjectRequest.Kind.ACCESS)
        for _ in range(6)
    ]
    for request in requests[:5]:
        request_transition(request=request, to=DataSubjectRequest.State.WITHDRAWN, actor=owner_a, reason="test")
    statistics = register_statistics(register=register_a, granularity=MONTH)
    month = timezone.localdate().month - 1
    assert row(statistics, "requests", "access to one's data").cells[month] == 6
    assert row(statistics, "request_outcomes", "withdrawn").cells[month] == 5
    assert row(statistics, "request_outcomes", "open").cells[month] is None


def test_the_page_draws_charts_without_scripts(client, register_a, owner_a):
    for _ in range(5):
        CustomerFactory(register=register_a, organisation_name="Nimi Oy")
    client.force_login(owner_a)
    response = client.get(f"/registers/{register_a.slug}/statistics/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") >= 3
    # The vendored htmx file is the only script: nothing inline, nothing from elsewhere.
    assert re.findall(r"<script[^>]*>", page) == [re.search(r'<script src="/static/js/[^"]+" defer>', page).group(0)]
    assert "Nimi Oy" not in page


def test_the_csv_has_counts_only(client, register_a, owner_a):
    customers = [CustomerFactory(register=register_a, organisation_name="Nimi Oy", created_at=at(5)) for _ in range(2)]
    client.force_login(owner_a)
    response = client.get(f"/registers/{register_a.slug}/statistics.csv?period=month&year={YEAR_SHOWN}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"{register_a.slug}-statistics-month-{YEAR_SHOWN}.csv" in response["Content-Disposition"]
    body = response.content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["register", "table", "row", "period", "value"]
    # Labels are in the user's language.
    with translation.override(response["Content-Language"]):
        label = translation.gettext("New customers")
    assert [register_a.slug, "customers", label, f"{YEAR_SHOWN}-05", "<5"] in rows
    assert "Nimi Oy" not in body
    for customer in customers:
        assert str(customer.code) not in body
        assert f",{customer.pk}," not in body


def test_a_main_user_sees_statistics(client, register_a, main_user):
    client.force_login(main_user)
    assert client.get(f"/registers/{register_a.slug}/statistics/").status_code == 200


def test_staff_of_another_register_gets_404(client, register_a, staff_b):
    client.force_login(staff_b)
    assert client.get(f"/registers/{register_a.slug}/statistics/").status_code == 404
    assert client.get(f"/registers/{register_a.slug}/statistics.csv").status_code == 404


def test_staff_who_is_not_owner_gets_403(client, register_a, staff_a, readonly_a):
    for user in (staff_a, readonly_a):
        client.force_login(user)
        assert client.get(f"/registers/{register_a.slug}/statistics/").status_code == 403


def test_anonymous_goes_to_login(client, register_a):
    response = client.get(f"/registers/{register_a.slug}/statistics/")
    assert response.status_code == 302
