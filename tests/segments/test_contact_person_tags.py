"""A contact person's own tags on the organisation's page: shown to all who read it, changed by those who change it."""

import pytest
from django.urls import reverse

from crm.models import ContactPersonTag

from ..factories import ContactPersonFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def add_url(person, register):
    return reverse(
        "segments:contact-person-tag-add",
        kwargs={"register": register.slug, "code": person.customer.code, "person": person.code},
    )


def remove_url(person, register, tag):
    return reverse(
        "segments:contact-person-tag-remove",
        kwargs={"register": register.slug, "code": person.customer.code, "person": person.code, "tag": tag.code},
    )


def test_staff_tag_a_contact_person_and_the_page_shows_it_beside_the_person(client, register_a, staff_a, tag_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a), first_name="Kaisa", last_name="Kävijä")
    client.force_login(staff_a)
    page = client.get(person.customer.get_absolute_url()).content.decode()
    assert f'id="id_add_tag_{person.code}"' in page

    assert client.post(add_url(person, register_a), {"tag": str(tag_a.code)}).status_code == 302
    assert ContactPersonTag.objects.filter(tag=tag_a, contact_person=person).count() == 1
    client.post(add_url(person, register_a), {"tag": str(tag_a.code)})
    assert ContactPersonTag.objects.filter(tag=tag_a, contact_person=person).count() == 1  # never twice
    page = client.get(person.customer.get_absolute_url()).content.decode()
    row = page[page.index("Kaisa Kävijä:") :]
    assert row.index("Messut 2027") < row.index("</li>")

    client.post(remove_url(person, register_a, tag_a))
    assert not ContactPersonTag.objects.exists()


def test_read_only_roles_and_other_registers_change_nothing(client, register_a, readonly_a, staff_b, tag_a, tag_b):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a))
    client.force_login(readonly_a)
    assert client.post(add_url(person, register_a), {"tag": str(tag_a.code)}).status_code == 403
    client.force_login(staff_b)
    assert client.post(add_url(person, register_a), {"tag": str(tag_a.code)}).status_code == 404
    # Another register's tag on this register's person: no such tag here.
    other = ContactPersonFactory(customer=CustomerFactory(register=tag_b.register))
    assert client.post(add_url(other, tag_b.register), {"tag": str(tag_a.code)}).status_code == 302
    assert not ContactPersonTag.objects.exists()


def test_a_restricted_organisations_contact_person_gets_no_tag(client, register_a, staff_a, tag_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a, processing_restricted=True))
    client.force_login(staff_a)
    client.post(add_url(person, register_a), {"tag": str(tag_a.code)})
    assert not ContactPersonTag.objects.exists()
