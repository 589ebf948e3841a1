import pytest

from ..factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_login(client, register_a):
    response = client.get(f"/crm/{register_a.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_of_another_register_gets_404_on_the_list(client, register_a, staff_b):
    client.force_login(staff_b)
    assert client.get(f"/crm/{register_a.slug}/").status_code == 404


def test_a_user_of_another_register_gets_404_on_a_customer(client, register_a, register_b, staff_b):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_b)
    assert client.get(f"/crm/{register_a.slug}/customers/{customer.code}/").status_code == 404
    # The other register's slug with this customer's code must not leak it either.
    assert client.get(f"/crm/{register_b.slug}/customers/{customer.code}/").status_code == 404


def test_staff_sees_their_own_customer(client, register_a, staff_a):
    customer = CustomerFactory(register=register_a, organisation_name="Merituuli Oy")
    client.force_login(staff_a)
    response = client.get(f"/crm/{register_a.slug}/customers/{customer.code}/")
    assert response.status_code == 200
    assert "Merituuli Oy" in response.content.decode()
