"""The new-customer form warns of likely duplicates before saving (live check and on submit)."""

import pytest
from django.urls import reverse

from crm.models import Customer

from ..factories import CustomerFactory, PersonCustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

WARNING = "This customer may already be in the register"


def create_url(register, kind="organisation"):
    return reverse("crm:customer-create", kwargs={"register": register.slug, "kind": kind})


def check_url(register, kind="organisation"):
    return reverse("crm:customer-duplicate-check", kwargs={"register": register.slug, "kind": kind})


def organisation_data(**overrides):
    data = {"version": 1, "organisation_name": "Mäkelä Oy", "city": "Oulu", "email": "info@makela.fi"}
    data.update(overrides)
    return data


@pytest.fixture
def existing(register_a):
    return CustomerFactory(register=register_a, organisation_name="Maekelae Ab", city="Oulu", email="")


def test_saving_a_likely_duplicate_returns_the_form_with_the_warning_and_what_was_typed(client, staff_a, existing):
    client.force_login(staff_a)
    data = organisation_data(extra_info="Asiakas soitti")
    response = client.post(create_url(existing.register), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert Customer.objects.count() == 1
    assert WARNING in page
    assert existing.get_absolute_url() in page
    assert "Maekelae Ab" in page
    assert "name 1.00 similar, same city" in page
    assert 'value="Mäkelä Oy"' in page
    assert "Asiakas soitti" in page
    assert 'name="different_customer"' in page


def test_ticking_different_customer_saves_it(client, staff_a, existing):
    client.force_login(staff_a)
    response = client.post(create_url(existing.register), organisation_data(different_customer="on"))
    assert response.status_code == 302
    assert Customer.objects.filter(organisation_name="Mäkelä Oy").exists()


def test_a_customer_without_likely_duplicates_saves_at_once(client, staff_a, existing):
    client.force_login(staff_a)
    response = client.post(create_url(existing.register), organisation_data(organisation_name="Kivinen Oy"))
    assert response.status_code == 302


def test_the_same_email_of_a_person_is_a_likely_duplicate(client, staff_a, register_a):
    PersonCustomerFactory(register=register_a, first_name="Aino", last_name="Aaltonen", email="aino@example.fi")
    client.force_login(staff_a)
    data = {"version": 1, "first_name": "Aino", "last_name": "Virtanen", "email": "AINO@example.fi"}
    response = client.post(create_url(register_a, "person"), data)
    assert WARNING in response.content.decode()
    assert "same e-mail" in response.content.decode()
    assert Customer.objects.count() == 1


def test_the_live_check_lists_the_likely_duplicates_of_what_is_typed(client, staff_a, existing):
    client.force_login(staff_a)
    response = client.post(check_url(existing.register), {"organisation_name": "Mäkelä", "city": "oulu"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="likely-duplicates"' in page
    assert existing.get_absolute_url() in page
    assert 'name="different_customer"' in page


def test_the_live_check_of_nothing_or_bad_input_is_an_empty_answer(client, staff_a, existing):
    client.force_login(staff_a)
    for data in ({}, {"organisation_name": "x" * 5000, "business_id": "nonsense", "email": "@@", "mobile": "abc"}):
        response = client.post(check_url(existing.register), data)
        assert response.status_code == 200
        assert WARNING not in response.content.decode()


def test_the_live_check_ignores_an_identity_code(client, staff_a, register_a):
    PersonCustomerFactory(register=register_a, first_name="Aino", last_name="Aaltonen", email="")
    client.force_login(staff_a)
    response = client.post(check_url(register_a, "person"), {"first_name": "131052-308T", "last_name": "Aaltonen"})
    assert response.status_code == 200
    assert WARNING not in response.content.decode()


def test_the_live_check_answers_404_for_another_register(client, staff_b, existing):
    client.force_login(staff_b)
    response = client.post(check_url(existing.register), {"organisation_name": "Mäkelä"})
    assert response.status_code == 404


def test_the_live_check_answers_404_for_an_unknown_kind(client, staff_a, existing):
    client.force_login(staff_a)
    assert client.post(check_url(existing.register, "robot"), {}).status_code == 404


def test_the_live_check_refuses_a_read_only_role(client, readonly_a, existing):
    client.force_login(readonly_a)
    response = client.post(check_url(existing.register), {"organisation_name": "Mäkelä"})
    assert response.status_code == 403


def test_the_live_check_is_post_only(client, staff_a, existing):
    client.force_login(staff_a)
    assert client.get(check_url(existing.register), {"organisation_name": "Mäkelä"}).status_code == 405


def test_the_warning_never_shows_another_registers_customers(client, staff_a, register_a, register_b):
    other = CustomerFactory(register=register_b, organisation_name="Mäkelä Oy", city="Oulu", email="info@makela.fi")
    client.force_login(staff_a)
    response = client.post(check_url(register_a), organisation_data())
    assert WARNING not in response.content.decode()
    response = client.post(create_url(register_a), organisation_data())
    assert response.status_code == 302
    response = client.post(check_url(register_a), organisation_data())
    assert WARNING in response.content.decode()
    assert str(other.code) not in response.content.decode()


def test_the_edit_form_has_no_live_check(client, staff_a, existing):
    client.force_login(staff_a)
    url = reverse("crm:customer-update", kwargs={"register": existing.register.slug, "code": existing.code})
    assert "customer-duplicate-check" not in client.get(url).content.decode()
    assert "duplicates/" not in client.get(url).content.decode()
    assert "duplicates/" in client.get(create_url(existing.register)).content.decode()


def test_the_same_business_id_is_refused_next_to_the_field_with_the_warning(client, staff_a, register_a):
    existing = CustomerFactory(register=register_a, organisation_name="Merituuli Oy", business_id="0201256-6")
    client.force_login(staff_a)
    data = organisation_data(organisation_name="Tuulimeri", business_id="0201256-6", different_customer="on")
    response = client.post(create_url(register_a), data)
    assert response.context["form"].errors["business_id"] == [
        "A customer with this business ID already exists in this register."
    ]
    assert existing.get_absolute_url() in response.content.decode()
    assert 'name="different_customer"' not in response.content.decode()
    assert Customer.objects.count() == 1
