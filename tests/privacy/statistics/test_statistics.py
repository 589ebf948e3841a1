import csv
import datetime
import io
import re

import pytest
from django.utils import timezone, translation

from crm.models import Interaction
from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition
from privacy.statistics import charts, selectors
from privacy.statistics.selectors import (
    MONTH,
    QUARTER,
    YEAR,
    register_statistics,
    register_statistics_readable,
    suppress,
)

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
        customer = CustomerFactory(register=register_a, organisation_name="Nimi Oy")
        InteractionFactory(customer=customer, kind=Interaction.Kind.MEETING)
        InteractionFactory(customer=customer, kind=Interaction.Kind.PURCHASED_SERVICE)
    client.force_login(owner_a)
    response = client.get(f"/registers/{register_a.slug}/statistics/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") >= 3
    # Charts with nothing to draw say so instead of drawing empty axes.
    assert "None in the period shown." in page
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


def test_quarterly_statistics_cover_two_years(register_a):
    customer = CustomerFactory(register=register_a, created_at=at(1))
    for month in (2, 3, 11):
        for _ in range(3):
            InteractionFactory(customer=customer, kind=Interaction.Kind.EVENT, occurred_at=at(month))
    statistics = register_statistics(register=register_a, granularity=QUARTER, year=YEAR_SHOWN)
    assert [p.label for p in statistics["periods"]][:2] == ["2024-Q1", "2024-Q2"]
    assert len(statistics["periods"]) == 8
    # Three events in each of February and March add up to six in the first quarter; November's three stay hidden.
    assert row(statistics, "interactions", "event").cells[4:] == [6, 0, 0, None]


def _few_events_every_month(register, per_month):
    customer = CustomerFactory(register=register, created_at=at(1))
    for month in range(1, 13):
        for _ in range(per_month):
            InteractionFactory(customer=customer, kind=Interaction.Kind.MEETING, occurred_at=at(month))


def test_a_small_register_gets_quarters_so_that_its_figures_can_be_shown(register_a):
    _few_events_every_month(register_a, 2)
    statistics = register_statistics_readable(register=register_a, year=YEAR_SHOWN)
    assert statistics["granularity"] == QUARTER
    assert statistics["automatic"]
    assert row(statistics, "interactions", "meeting").cells[4:] == [6, 6, 6, 6]


def test_a_busy_register_keeps_its_months(register_a):
    _few_events_every_month(register_a, 5)
    statistics = register_statistics_readable(register=register_a, year=YEAR_SHOWN)
    assert statistics["granularity"] == MONTH


def test_a_register_with_little_in_any_quarter_gets_years(register_a):
    customer = CustomerFactory(register=register_a, created_at=at(1))
    for month in (1, 4, 7, 10, 12):
        InteractionFactory(customer=customer, kind=Interaction.Kind.MEETING, occurred_at=at(month))
    statistics = register_statistics_readable(register=register_a, year=YEAR_SHOWN)
    assert statistics["granularity"] == YEAR
    assert row(statistics, "interactions", "meeting").cells[-1] == 5


def test_the_page_says_which_grouping_it_uses_and_lets_the_owner_choose(client, register_a, owner_a):
    _few_events_every_month(register_a, 2)
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/statistics/"
    page = client.get(f"{url}?year={YEAR_SHOWN}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Figures per quarter, {YEAR_SHOWN - 1}-Q1 to {YEAR_SHOWN}-Q4." in page
    assert "Chosen automatically" in page
    assert "period=quarter" in page  # the CSV gives the same figures
    page = client.get(f"{url}?period=month&year={YEAR_SHOWN}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Figures per month, {YEAR_SHOWN}-01 to {YEAR_SHOWN}-12." in page
    assert "Chosen automatically" not in page
    # The first visit shows the year the figures are for.
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'value="{timezone.localdate().year}"' in page


def test_bad_choices_get_a_clear_error(client, register_a, owner_a):
    client.force_login(owner_a)
    response = client.get(f"/registers/{register_a.slug}/statistics/?period=week&year=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "Enter a whole number" in page


def test_a_hidden_figure_says_why(client, register_a, owner_a):
    for _ in range(3):
        CustomerFactory(register=register_a)
    client.force_login(owner_a)
    page = client.get(
        f"/registers/{register_a.slug}/statistics/?period=month", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert '<abbr title="fewer than 5: hidden to protect privacy">&lt;5</abbr>' in page
    assert "a figure from 1 to 4 is hidden to protect privacy" in page
    assert "Figures marked “&lt;5” are fewer than 5 and hidden to protect privacy" in page


def test_charts_have_readable_text_axes_and_a_text_alternative(register_a):
    customer = CustomerFactory(register=register_a, created_at=at(1))
    for _ in range(7):
        InteractionFactory(customer=customer, kind=Interaction.Kind.PURCHASED_SERVICE, occurred_at=at(3))
    InteractionFactory(customer=customer, kind=Interaction.Kind.PURCHASED_SERVICE, occurred_at=at(4))
    statistics = register_statistics(register=register_a, granularity=MONTH, year=YEAR_SHOWN)
    services = next(c for c in charts.statistics_charts(statistics) if c["table_key"] == "services")
    # The chart column is at least 20 rem (320 px) wide: its text is never drawn below 12 px.
    assert services["font"] * 320 / services["width"] >= 12
    words = [line for text in services["texts"] for line in text.lines]
    assert f"Month of {YEAR_SHOWN}" in words
    assert {"0", "5"} <= set(words)  # the y axis
    assert "<5" in words
    assert f"{YEAR_SHOWN}-03: 7" in services["desc"]
    assert f"{YEAR_SHOWN}-04: fewer than 5, hidden to protect privacy" in services["desc"]
    hidden = [rect for rect in services["rects"] if rect.hidden]
    assert len(hidden) == 1


def test_the_svg_carries_its_title_and_description(client, register_a, owner_a):
    customer = CustomerFactory(register=register_a)
    for _ in range(6):
        InteractionFactory(customer=customer, kind=Interaction.Kind.PURCHASED_SERVICE)
    client.force_login(owner_a)
    page = client.get(
        f"/registers/{register_a.slug}/statistics/?period=month", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    svg = re.search(r'<svg class="chart-svg"[^>]*aria-labelledby="(chart-\d+)-title \1-desc"[^>]*>', page)
    assert svg is not None
    assert f'<desc id="{svg.group(1)}-desc">' in page
    assert 'font-size="16"' in page
    assert 'href="#table-services"' in page
    assert 'id="table-services"' in page


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (5, 10), (14, 10), (15, 20), (25, 30), (1234, 1230)])
def test_stock_figures_round_half_up_to_tens(count, shown):
    assert selectors.round_to_tens(count) == shown
