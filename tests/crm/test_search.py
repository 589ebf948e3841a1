"""The register's search: business IDs typed without the hyphen, and contact persons leading to their organisation."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from crm.selectors import contact_person_search, customer_list

from ..factories import ContactPersonFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def list_url(register, **params):
    return f"{reverse('crm:customer-list', kwargs={'register': register.slug})}?{urlencode(params)}"


def names(response) -> list[str]:
    return [row.name for row in response.context["rows"]]


@pytest.fixture
def merituuli(register_a):
    organisation = CustomerFactory(register=register_a, organisation_name="Merituuli Oy", business_id="0201256-6")
    ContactPersonFactory(
        customer=organisation,
        first_name="Maija",
        last_name="Virtanen",
        email="maija.virtanen@merituuli.example.fi",
        phone="+358401112223",
    )
    return organisation


@pytest.mark.parametrize("term", ["02012566", " 02012566 ", "0201256-6", "201256-6"])
def test_a_business_id_is_found_with_or_without_its_hyphen(client, staff_a, register_a, merituuli, term):
    client.force_login(staff_a)
    assert names(client.get(list_url(register_a, q=term))) == ["Merituuli Oy"]


@pytest.mark.parametrize(
    "term",
    ["Virtanen", "maija", "Maija Virtanen", "virtanen maija", "MAIJA.VIRTANEN@merituuli", "040 111 2223", "0401112223"],
)
def test_a_contact_person_is_found_by_name_email_or_phone_and_leads_to_the_organisation(
    client, staff_a, register_a, merituuli, term
):
    client.force_login(staff_a)
    response = client.get(list_url(register_a, q=term))
    html = response.content.decode()
    assert [person.display_name for person in response.context["contact_hits"]] == ["Maija Virtanen"]
    assert "Contact person: Maija Virtanen" in html
    assert f'href="{merituuli.get_absolute_url()}"' in html


def test_search_as_you_type_shows_the_contact_person_hits_too(client, staff_a, register_a, merituuli):
    client.force_login(staff_a)
    response = client.get(list_url(register_a, q="Virtanen"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-results")
    assert "Contact person: Maija Virtanen" in response.content.decode()


def test_a_search_that_matches_no_contact_person_shows_no_contact_section(client, staff_a, register_a, merituuli):
    client.force_login(staff_a)
    response = client.get(list_url(register_a, q="Merituuli Oy"))
    assert response.context["contact_hits"] == []
    assert "Contact person:" not in response.content.decode()


def test_contact_persons_of_another_register_are_never_found(register_a, register_b, staff_a, staff_b, merituuli):
    other = CustomerFactory(register=register_b, organisation_name="Toinen Oy")
    ContactPersonFactory(customer=other, first_name="Matti", last_name="Virtanen")
    assert [p.customer for p in contact_person_search(user=staff_a, search="Virtanen")] == [merituuli]
    assert [p.customer for p in contact_person_search(user=staff_b, search="Virtanen")] == [other]
    assert not contact_person_search(user=staff_b, search="Virtanen", register=register_a).exists()


def test_a_whole_business_id_does_not_find_others_that_share_digits(register_a, staff_a, merituuli):
    CustomerFactory(register=register_a, organisation_name="Kivi Oy", business_id="1234567-1")
    assert [c.organisation_name for c in customer_list(user=staff_a, search="12345671")] == ["Kivi Oy"]


def test_the_contact_hits_are_the_newest_matches_listed_by_name(client, staff_a, register_a, merituuli):
    from crm.views import CONTACT_HITS

    people = [
        ContactPersonFactory(customer=merituuli, first_name=f"Henkilö {number}", last_name=f"Östman {number % 7}")
        for number in range(CONTACT_HITS + 2)
    ]
    client.force_login(staff_a)
    response = client.get(list_url(register_a, q="stman"))
    assert response.context["contact_hits_more"]
    newest = sorted(people[2:], key=lambda person: (person.last_name, person.first_name))
    assert [person.pk for person in response.context["contact_hits"]] == [person.pk for person in newest]


def test_a_term_shorter_than_three_characters_finds_customers_but_no_contact_persons(
    client, staff_a, register_a, merituuli
):
    client.force_login(staff_a)
    response = client.get(list_url(register_a, q="Ma"))
    assert response.status_code == 200
    assert response.context["contact_hits"] == []
    assert not response.context["contact_hits_more"]


def test_a_whole_e_mail_address_finds_that_address_in_any_case_and_no_longer_one(register_a, staff_a):
    CustomerFactory(register=register_a, organisation_name="Oikea Oy", email="info@kivi.example.fi")
    CustomerFactory(register=register_a, organisation_name="Pidempi Oy", email="myinfo@kivi.example.fi")
    found = customer_list(user=staff_a, search="INFO@Kivi.example.fi")
    assert [c.organisation_name for c in found] == ["Oikea Oy"]
    # Part of an address is still searched as a substring.
    assert {c.organisation_name for c in customer_list(user=staff_a, search="info@kivi")} == {"Oikea Oy", "Pidempi Oy"}


def test_a_contact_persons_whole_e_mail_address_finds_that_person(register_a, staff_a, merituuli):
    ContactPersonFactory(
        customer=merituuli, first_name="Toinen", last_name="Henkilö", email="xmaija.virtanen@merituuli.example.fi"
    )
    people = contact_person_search(user=staff_a, search="Maija.Virtanen@merituuli.example.fi")
    assert [person.email for person in people] == ["maija.virtanen@merituuli.example.fi"]


@pytest.mark.parametrize("ordering", ["name", "-name", "activity", "-activity"])
def test_the_pages_of_a_search_follow_the_list_order_without_gaps_or_repeats(client, staff_a, register_a, ordering):
    for number in range(120):
        CustomerFactory(register=register_a, organisation_name=f"Haku {number:03d} Oy")
    CustomerFactory(register=register_a, organisation_name="Muu Oy")
    client.force_login(staff_a)
    shown = []
    for page in (1, 2, 3):
        response = client.get(list_url(register_a, q="haku", sort=ordering, page=page))
        shown += [row.name for row in response.context["rows"]]
    expected = [
        c.display_name for c in customer_list(user=staff_a, register=register_a, search="haku", ordering=ordering)
    ]
    assert len(shown) == 120
    assert shown == expected
