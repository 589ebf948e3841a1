"""The front page's follow-up panels: "My follow-ups" (overdue first, at most ten) and this month's figures of
each register, small figures hidden as the register statistics hide them."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registers.models import Role
from registers.services import membership_end

from ..conftest import grant
from ..factories import CustomerFactory, InteractionFactory, UserFactory
from .factories import FollowUpFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


def home(client) -> str:
    return client.get(reverse("home")).content.decode()


def test_my_follow_ups_come_overdue_first_then_by_due_date(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    later = FollowUpFactory(
        customer=customer, assignee=staff_a, due_on=TODAY + datetime.timedelta(days=9), note="Myöhemmin tehtävä"
    )
    late = FollowUpFactory(
        customer=customer, assignee=staff_a, due_on=TODAY - datetime.timedelta(days=2), note="Myöhästynyt tehtävä"
    )
    today = FollowUpFactory(customer=customer, assignee=staff_a, due_on=TODAY, note="Tämän päivän tehtävä")
    client.force_login(staff_a)
    html = home(client)
    assert "My follow-ups" in html
    assert html.index(late.note) < html.index(today.note) < html.index(later.note)
    assert "overdue" in html
    assert reverse("followups:mine") in html


def test_the_front_page_lists_ten_and_links_to_the_rest(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    for number in range(12):
        FollowUpFactory(customer=customer, assignee=staff_a, due_on=TODAY + datetime.timedelta(days=number))
    client.force_login(staff_a)
    html = home(client)
    assert html.count('class="followup') == 10
    assert "All my follow-ups" in html
    assert client.get(reverse("followups:mine")).content.decode().count('class="followup') == 12


def test_done_follow_ups_and_those_of_an_ended_role_leave_the_list(client, staff_a, register_a, register_b):
    membership = grant(staff_a, register_b, Role.STAFF)
    main_user = UserFactory(username="grantor")  # the superuser who granted the role
    FollowUpFactory(
        customer=CustomerFactory(register=register_a), assignee=staff_a, done_at=timezone.now(), note="Tehty"
    )
    FollowUpFactory(customer=CustomerFactory(register=register_b), assignee=staff_a, note="Toisen rekisterin työ")
    membership_end(actor=main_user, membership=membership, reason="moved")
    client.force_login(staff_a)
    html = home(client)
    assert "Tehty" not in html
    assert "Toisen rekisterin työ" not in html
    assert "No open follow-ups." in html


def test_this_months_figures_hide_small_counts_as_the_statistics_do(client, staff_a, register_a, register_b, settings):
    settings.STATISTICS_MIN_CELL = 5
    grant(staff_a, register_b, Role.STAFF)
    for _number in range(6):
        InteractionFactory(customer=CustomerFactory(register=register_a))
    CustomerFactory(register=register_b)
    InteractionFactory(
        customer=CustomerFactory(register=register_b), occurred_at=timezone.now() - datetime.timedelta(days=62)
    )
    client.force_login(staff_a)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "This month" in html
    start = html.index("this-month-title")
    table = html[start:]
    row_a = table[table.index(register_a.name) :]
    row_b = table[table.index(register_b.name) :]
    # Register A: 6 new customers and 6 interactions this month; register B: 2 new customers, hidden.
    assert "<td>6</td>" in row_a[: row_a.index("</tr>")].replace("\n", "").replace(" ", "")
    assert "&lt;5" in row_b[: row_b.index("</tr>")]


def test_a_register_the_user_holds_no_role_in_has_no_figures(client, staff_a, register_b):
    CustomerFactory(register=register_b)
    client.force_login(staff_a)
    assert register_b.name not in home(client)


def test_the_front_page_costs_the_same_for_few_and_many_follow_ups(client, staff_a, register_a, register_b):
    grant(staff_a, register_b, Role.STAFF)
    customer = CustomerFactory(register=register_a)
    FollowUpFactory(customer=customer, assignee=staff_a)
    client.force_login(staff_a)
    home(client)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("home")).status_code == 200
        return len(context.captured_queries)

    few = queries()
    for register in (register_a, register_b):
        for number in range(8):
            other = CustomerFactory(register=register)
            FollowUpFactory(customer=other, assignee=staff_a, due_on=TODAY - datetime.timedelta(days=number))
            InteractionFactory(customer=other)
    assert queries() == few
