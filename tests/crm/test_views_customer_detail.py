import datetime

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from crm.models import Customer
from registers.models import CustomerField

from ..factories import ContactPersonFactory, CustomerFactory, InteractionFactory, InvoiceFactory, PersonCustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_it_shows_the_fields_the_register_collects_and_no_others(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.EMAIL, CustomerField.OCCUPATION]
    register_a.save()
    customer = PersonCustomerFactory(
        register=register_a, first_name="Aino", last_name="Aaltonen", email="aino@example.fi", date_of_birth=None
    )
    Customer.objects.filter(pk=customer.pk).update(education="Diplomi-insinööri")
    client.force_login(staff_a)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "aino@example.fi" in html
    assert "Occupation" in html
    # The register does not collect education: neither the label nor a stray value shows.
    assert "Education" not in html
    assert "Diplomi-insinööri" not in html
    assert "Date of birth" not in html
    assert "Business ID" not in html


def test_an_organisation_shows_its_contact_persons(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    ContactPersonFactory(customer=customer, first_name="Kalle", last_name="Korhonen", title="Toimitusjohtaja")
    client.force_login(staff_a)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "Kalle Korhonen" in html
    assert "Toimitusjohtaja" in html


def test_every_contact_person_shows_every_field_in_name_order_with_its_own_links(client, handler_a, register_a):
    """The page reads the contact persons with the customer (one query): nothing may be lost on the way."""
    customer = CustomerFactory(register=register_a)
    people = [
        ContactPersonFactory(
            customer=customer,
            first_name=first,
            last_name=last,
            title=f"Title of {first}",
            responsibility=f"Area of {first}",
            email=f"{first.lower()}@example.fi",
            phone=phone,
            interests=f"Interests of {first}",
        )
        for first, last, phone in [
            ("Veera", "Virtanen", "+358401111111"),
            ("Aino", "Aalto", "+358402222222"),
            ("Bertil", "Aalto", "+358403333333"),
        ]
    ]
    client.force_login(handler_a)
    html = client.get(customer.get_absolute_url()).content.decode()
    positions = [html.index(f"{person.first_name} {person.last_name}") for person in people]
    assert positions[1] < positions[2] < positions[0]  # last name, then first name
    for person in people:
        for value in (person.title, person.responsibility, person.email, person.interests):
            assert value in html
        assert person.phone.as_international in html
        assert f"/contacts/{person.code}/edit/" in html


def test_a_person_has_no_contact_persons_section(client, staff_a, register_a):
    customer = PersonCustomerFactory(register=register_a)
    client.force_login(staff_a)
    assert "Contact persons" not in client.get(customer.get_absolute_url()).content.decode()


def test_the_timeline_merges_interactions_and_invoices_newest_first(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    now = timezone.now()
    InteractionFactory(customer=customer, subject="Vanha tapaaminen", occurred_at=now - datetime.timedelta(days=30))
    invoice = InvoiceFactory(customer=customer, number="LASKU-7", amount="1234.50")
    invoice.created_at = now - datetime.timedelta(days=10)
    invoice.save()
    InteractionFactory(customer=customer, subject="Uusi puhelu", occurred_at=now - datetime.timedelta(days=1))
    client.force_login(staff_a)
    response = client.get(customer.get_absolute_url())
    titles = [entry.title for entry in response.context["timeline"].entries]
    assert titles == ["Uusi puhelu", "LASKU-7", "Vanha tapaaminen"]
    assert "LASKU-7, 1,234.50 €" in response.content.decode()


def test_the_timeline_is_paginated_fifty_at_a_time(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    now = timezone.now()
    for number in range(53):
        InteractionFactory(
            customer=customer, subject=f"Kontakti {number:02d}", occurred_at=now - datetime.timedelta(hours=number)
        )
    client.force_login(staff_a)
    first = client.get(customer.get_absolute_url()).context["timeline"]
    assert len(first.entries) == 50
    assert first.has_next
    assert not first.has_previous
    second = client.get(customer.get_absolute_url() + "?page=2").context["timeline"]
    assert [entry.title for entry in second.entries] == ["Kontakti 50", "Kontakti 51", "Kontakti 52"]
    assert not second.has_next


def test_an_htmx_page_of_the_timeline_returns_only_the_timeline(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    InteractionFactory(customer=customer, subject="Puhelu")
    client.force_login(staff_a)
    response = client.get(customer.get_absolute_url(), headers={"HX-Request": "true", "HX-Target": "timeline"})
    html = response.content.decode()
    assert "Puhelu" in html
    assert "<html" not in html


def test_viewing_a_customer_writes_an_access_log_entry(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    client.get(customer.get_absolute_url())
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_id=customer.pk)
    assert entry.actor == staff_a


def test_a_restricted_customer_shows_a_notice_and_no_edit_controls(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a, processing_restricted=True)
    client.force_login(staff_a)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "Processing of this customer's data is restricted" in html
    assert f"{customer.get_absolute_url()}edit/" not in html


def test_dates_and_numbers_follow_the_language(client, staff_a, register_a, settings):
    settings.LANGUAGE_CODE = "fi"
    customer = CustomerFactory(register=register_a)
    invoice = InvoiceFactory(customer=customer, number="L-1", amount="1234.50", due_date=datetime.date(2026, 12, 24))
    assert invoice
    client.force_login(staff_a)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "1234,50 €" in html or "1 234,50 €" in html or "1\xa0234,50 €" in html
    assert "24.12.2026" in html


def test_a_contact_persons_own_objection_and_a_bounced_address_show_as_badges(client, staff_a, register_a, settings):
    settings.LANGUAGE_CODE = "en"
    organisation = CustomerFactory(register=register_a, email_bounced_at=timezone.now())
    ContactPersonFactory(customer=organisation, last_name="Kieltäjä", marketing_objection=True)
    ContactPersonFactory(customer=organisation, last_name="Palautuva", email_bounced_at=timezone.now())
    ContactPersonFactory(customer=organisation, last_name="Tavallinen")
    client.force_login(staff_a)
    html = client.get(organisation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    people = html[html.index("Kieltäjä") :]
    assert people.index("Objects to direct marketing") < people.index("Palautuva")
    assert people.index("E-mail address bounced", people.index("Palautuva")) < people.index("Tavallinen")
    assert html.count("E-mail address bounced") == 2  # the organisation's own, and Palautuva's
