import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from registers.models import CustomerField

from ..factories import ContactCentreRegisterFactory, CustomerFactory, PersonCustomerFactory, RegisterFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def list_url(register, **params):
    from urllib.parse import urlencode

    url = reverse("crm:customer-list", kwargs={"register": register.slug})
    return f"{url}?{urlencode(params)}" if params else url


def names(response) -> list[str]:
    return [row.name for row in response.context["rows"]]


@pytest.fixture
def customers(register_a):
    now = timezone.now()
    return {
        "merituuli": CustomerFactory(
            register=register_a,
            organisation_name="Merituuli Oy",
            business_id="0201256-6",
            email="Info@Merituuli.example.fi",
            mobile="+358401234567",
            language=Customer.Language.SWEDISH,
            last_activity_at=now - datetime.timedelta(days=400),
        ),
        "kivi": CustomerFactory(
            register=register_a,
            organisation_name="Kivirinne Ky",
            email="kivi@example.fi",
            marketing_objection=True,
            last_activity_at=now - datetime.timedelta(days=10),
        ),
        "aalto": PersonCustomerFactory(
            register=register_a,
            first_name="Aino",
            last_name="Aaltonen",
            email="aino@example.fi",
            landline="+35891234567",
            last_activity_at=now - datetime.timedelta(days=40),
        ),
    }


def test_it_lists_the_registers_customers_in_name_order_with_a_count(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    response = client.get(list_url(register_a))
    assert names(response) == ["Aino Aaltonen", "Kivirinne Ky", "Merituuli Oy"]
    assert "3 customers" in response.content.decode()


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("tuuli", ["Merituuli Oy"]),  # inside the name
        ("TUULI", ["Merituuli Oy"]),  # any case
        ("0201256", ["Merituuli Oy"]),  # part of the business ID
        ("info@merituuli", ["Merituuli Oy"]),  # e-mail, any case
        ("040 123 45", ["Merituuli Oy"]),  # mobile typed in the national format
        ("09 1234", ["Aino Aaltonen"]),  # landline
        ("aalto", ["Aino Aaltonen"]),
        ("ei löydy", []),
    ],
)
def test_it_finds_customers_by_a_substring(client, staff_a, register_a, customers, term, expected):
    client.force_login(staff_a)
    assert names(client.get(list_url(register_a, q=term))) == expected


def test_a_search_never_reaches_another_register(client, staff_a, register_a, register_b, customers):
    CustomerFactory(register=register_b, organisation_name="Merituulen Toinen Oy")
    client.force_login(staff_a)
    assert names(client.get(list_url(register_a, q="merituul"))) == ["Merituuli Oy"]


def test_it_filters_by_type_language_and_marketing_objection(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    assert names(client.get(list_url(register_a, kind="person"))) == ["Aino Aaltonen"]
    assert names(client.get(list_url(register_a, language="sv"))) == ["Merituuli Oy"]
    assert names(client.get(list_url(register_a, marketing="yes"))) == ["Kivirinne Ky"]
    assert names(client.get(list_url(register_a, marketing="no"))) == ["Aino Aaltonen", "Merituuli Oy"]


def test_it_filters_customers_without_activity_for_n_months(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    assert names(client.get(list_url(register_a, inactive_months=12))) == ["Merituuli Oy"]
    assert names(client.get(list_url(register_a, inactive_months=1))) == ["Aino Aaltonen", "Merituuli Oy"]


def test_it_sorts_by_latest_and_oldest_activity(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    newest_first = ["Kivirinne Ky", "Aino Aaltonen", "Merituuli Oy"]
    assert names(client.get(list_url(register_a, sort="-activity"))) == newest_first
    assert names(client.get(list_url(register_a, sort="activity"))) == newest_first[::-1]
    assert names(client.get(list_url(register_a, sort="-name"))) == ["Merituuli Oy", "Kivirinne Ky", "Aino Aaltonen"]


def test_an_invalid_filter_is_ignored_and_explained(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    response = client.get(list_url(register_a, inactive_months="many", kind="robot", sort="chaos"))
    assert response.status_code == 200
    assert names(response) == ["Aino Aaltonen", "Kivirinne Ky", "Merituuli Oy"]
    assert "Enter a whole number." in response.content.decode()


def test_it_paginates_fifty_per_page_and_keeps_the_filters_in_the_links(client, staff_a, register_a):
    for number in range(55):
        CustomerFactory(register=register_a, organisation_name=f"Yritys {number:02d} Oy", language="fi")
    client.force_login(staff_a)
    first = client.get(list_url(register_a, language="fi"))
    assert len(first.context["rows"]) == 50
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert "?language=fi&amp;page=2" in html
    second = client.get(list_url(register_a, language="fi", page=2))
    assert names(second) == [f"Yritys {number:02d} Oy" for number in range(50, 55)]
    # A page number past the end shows the last page rather than an error.
    assert client.get(list_url(register_a, page=99)).context["page"].number == 2


def test_search_as_you_type_returns_only_the_results(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    response = client.get(
        list_url(register_a, q="tuuli"), headers={"HX-Request": "true", "HX-Target": "customer-results"}
    )
    html = response.content.decode()
    assert "Merituuli Oy" in html
    assert "<html" not in html
    assert 'id="q"' not in html
    assert "HX-Request" in response["Vary"]


def test_the_search_form_works_without_javascript(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    html = client.get(list_url(register_a, q="tuuli")).content.decode()
    assert '<form method="get"' in html
    assert 'action="/crm/register-a/"' in html
    assert 'value="tuuli"' in html
    assert "<html" in html


def test_the_list_shows_only_columns_the_register_collects(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.EMAIL]
    register_a.save()
    CustomerFactory(register=register_a, organisation_name="Merituuli Oy", email="info@merituuli.example.fi")
    client.force_login(staff_a)
    html = client.get(list_url(register_a)).content.decode()
    assert "info@merituuli.example.fi" in html
    assert "Business ID" not in html
    assert "Mobile phone" not in html
    # No address collected: no mailing labels.
    assert "Mailing labels" not in html
    assert 'id="id_language"' not in html


def test_the_language_filter_offers_fixed_choices(client, staff_a, register_a, customers):
    client.force_login(staff_a)
    html = client.get(list_url(register_a)).content.decode()
    for label in ("Finnish", "Swedish", "English"):
        assert f">{label}</option>" in html


def test_a_contact_centre_register_opens_its_archive(client):
    from registers.models import Role

    from ..conftest import grant
    from ..factories import UserFactory

    register = ContactCentreRegisterFactory(slug="contact-centre")
    user = UserFactory(username="expert")
    grant(user, register, Role.CONTACT_CENTRE_EXPERT)
    client.force_login(user)
    response = client.get(list_url(register))
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:message-list", kwargs={"register": register.slug})


def test_the_header_lists_only_the_users_registers(client, staff_a, register_a, register_b):
    RegisterFactory(slug="register-c", name_en="Register C")
    client.force_login(staff_a)
    html = client.get(list_url(register_a)).content.decode()
    assert f'href="/crm/{register_a.slug}/"' in html
    assert f'href="/crm/{register_b.slug}/"' not in html
    assert 'href="/crm/register-c/"' not in html


def test_a_broad_search_counts_up_to_a_cap_and_says_so(client, staff_a, register_a, monkeypatch):
    from crm import views

    monkeypatch.setattr(views, "COUNT_CAP", 5)
    for number in range(7):
        CustomerFactory(register=register_a, organisation_name=f"Yritys {number} Oy")
    client.force_login(staff_a)
    html = client.get(list_url(register_a, q="yritys")).content.decode()
    assert "More than 5 customers: the first 5 are listed." in html
    # The register's own size is always counted exactly.
    assert "7 customers" in client.get(list_url(register_a)).content.decode()
    # Below the cap the count is exact.
    assert "1 customer" in client.get(list_url(register_a, q="yritys 1")).content.decode()
