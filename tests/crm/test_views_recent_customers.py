import pytest

from registers.models import Membership

from ..factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def recent(client) -> list[str]:
    html = client.get("/").content.decode()
    if "Recent customers" not in html:
        return []
    section = html.split("Recent customers", 1)[1].split("</section>", 1)[0]
    return [line.split(">", 2)[2].split("<", 1)[0] for line in section.splitlines() if "<li><a" in line]


def test_the_front_page_lists_the_customers_the_user_opened_newest_first(client, staff_a, register_a):
    first = CustomerFactory(register=register_a, organisation_name="Ensimmäinen Oy")
    second = CustomerFactory(register=register_a, organisation_name="Toinen Oy")
    client.force_login(staff_a)
    assert recent(client) == []
    for customer in (first, second, first):
        client.get(customer.get_absolute_url())
    assert recent(client) == ["Ensimmäinen Oy", "Toinen Oy"]


def test_recent_customers_are_the_users_own(client, staff_a, handler_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Käsittelijän Oy")
    client.force_login(handler_a)
    client.get(customer.get_absolute_url())
    client.force_login(staff_a)
    assert recent(client) == []


def test_a_customer_of_a_register_the_user_left_disappears(client, staff_a, register_a):
    from registers.services import membership_end

    from ..factories import UserFactory

    customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy")
    client.force_login(staff_a)
    client.get(customer.get_absolute_url())
    membership = Membership.objects.get(user=staff_a, register=register_a)
    membership_end(actor=UserFactory(username="grantor", is_superuser=True), membership=membership, reason="test")
    assert recent(client) == []


def test_a_deleted_customer_disappears(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Poistettu Oy")
    client.force_login(staff_a)
    client.get(customer.get_absolute_url())
    customer.delete()
    assert recent(client) == []
