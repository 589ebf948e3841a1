"""The front page of daily staff work: a search across the user's registers, their recent customers and the
work waiting for them (data-subject requests to handle or approve, access reviews to run)."""

import pytest
from django.urls import reverse

from registers.models import Role

from ..conftest import grant
from ..factories import ContactCentreRegisterFactory, ContactPersonFactory, CustomerFactory, UserFactory
from ..privacy import steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


def home(client, **params) -> str:
    return client.get(reverse("home"), params).content.decode()


@pytest.fixture
def two_registers(register_a, register_b, staff_a):
    grant(staff_a, register_b, Role.STAFF)
    organisation = CustomerFactory(register=register_a, organisation_name="Merituuli Oy", business_id="0201256-6")
    ContactPersonFactory(customer=organisation, first_name="Maija", last_name="Virtanen")
    other = CustomerFactory(register=register_b, organisation_name="Virtasen Kala Oy")
    return organisation, other


def test_the_front_page_has_a_search_box(client, staff_a):
    client.force_login(staff_a)
    html = home(client)
    assert 'role="search"' in html
    assert 'name="q"' in html


def test_the_search_covers_every_register_of_the_user(client, staff_a, two_registers):
    organisation, other = two_registers
    client.force_login(staff_a)
    html = home(client, q="virta")
    # A customer of register B by name, an organisation of register A through its contact person.
    assert f'href="{other.get_absolute_url()}"' in html
    assert f'href="{organisation.get_absolute_url()}"' in html
    assert "Contact person: Maija Virtanen" in html


def test_the_search_finds_a_business_id_typed_without_the_hyphen(client, staff_a, two_registers):
    organisation, _other = two_registers
    client.force_login(staff_a)
    assert f'href="{organisation.get_absolute_url()}"' in home(client, q="02012566")


def test_the_search_never_shows_a_register_the_user_holds_no_role_in(client, register_a, register_b, staff_a):
    CustomerFactory(register=register_b, organisation_name="Salainen Oy")
    client.force_login(staff_a)
    html = home(client, q="Salainen")
    assert "Salainen Oy" not in html
    assert "No customers or contact persons found." in html


def test_a_too_long_search_is_refused_with_a_clear_error(client, staff_a):
    client.force_login(staff_a)
    response = client.get(reverse("home"), {"q": "x" * 101})
    assert response.status_code == 200
    assert "Ensure this value has at most 100 characters (it has 101)." in response.content.decode()


def test_a_contact_centre_user_gets_no_customer_search(client):
    expert = UserFactory()
    grant(expert, ContactCentreRegisterFactory(), Role.CONTACT_CENTRE_EXPERT)
    client.force_login(expert)
    assert 'name="q"' not in home(client)


def test_the_front_page_lists_the_users_recent_customers(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Avattu Oy")
    client.force_login(staff_a)
    client.get(customer.get_absolute_url())
    html = home(client)
    assert "Recent customers" in html
    assert "Avattu Oy" in html


def test_a_handler_sees_how_many_requests_wait_for_handling(client, register_a, handler_a):
    steps.in_triage(register_a, handler_a)
    steps.in_progress(register_a, handler_a)
    steps.submit(register_a)  # e-mail not confirmed yet: nothing for the handler to do
    client.force_login(handler_a)
    html = home(client)
    assert "Data-subject requests waiting for you" in html
    assert "2 requests to handle" in html
    # Approving is the owner's: a handler's front page has no approval list.
    assert "Answers waiting for your approval" not in html


def test_the_owner_sees_the_answers_waiting_for_approval(client, register_a, handler_a, owner_a):
    waiting = steps.in_review(register_a, handler_a)
    client.force_login(owner_a)
    html = home(client)
    assert "Answers waiting for your approval" in html
    assert reverse("privacy:request-detail", kwargs={"code": waiting.code}) in html
    client.force_login(handler_a)
    assert "0 requests" not in home(client)
    assert "No request is waiting for its handling." in home(client)


def test_staff_without_request_rights_see_no_request_work(client, register_a, handler_a, staff_a):
    steps.in_triage(register_a, handler_a)
    client.force_login(staff_a)
    assert "Data-subject requests waiting for you" not in home(client)


def test_the_owner_sees_the_open_access_review(client, register_a, owner_a):
    from registers import access_review

    access_review.access_review_open(register=register_a, actor=owner_a)
    client.force_login(owner_a)
    assert "Access reviews waiting for you" in home(client)
