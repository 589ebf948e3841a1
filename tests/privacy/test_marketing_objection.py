"""The one-click objection by address: every record of the address, in every register of the controller, at once."""

import pytest
from auditlog.models import LogEntry

from crm.models import ContactPerson, Customer
from privacy.rights.marketing import marketing_objection_by_address
from privacy.rights.models import ObjectionRecord
from tests.factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory, RegisterFactory

pytestmark = pytest.mark.django_db

EVIDENCE = {"campaign": "c", "recipient": "r", "method": "rfc8058-post", "at": "2026-11-30T12:00:00+00:00"}


def test_every_record_of_the_address_in_the_controllers_registers_objects():
    first = RegisterFactory()
    second = RegisterFactory(organisation=first.organisation)
    elsewhere = RegisterFactory()
    anna = PersonCustomerFactory(register=first, email="anna@example.fi")
    twin = PersonCustomerFactory(register=second, email="ANNA@example.FI")
    contact = ContactPersonFactory(customer=CustomerFactory(register=second), email="Anna@example.fi")
    other_controller = PersonCustomerFactory(register=elsewhere, email="anna@example.fi")
    someone_else = PersonCustomerFactory(register=first, email="bertta@example.fi")

    records = marketing_objection_by_address(
        organisation=first.organisation, email="anna@example.fi", evidence=EVIDENCE
    )

    assert len(records) == 3
    for customer in (anna, twin):
        assert Customer.objects.get(pk=customer.pk).marketing_objection
    assert ContactPerson.objects.get(pk=contact.pk).marketing_objection
    assert not Customer.objects.get(pk=contact.customer_id).marketing_objection, "the organisation itself did not"
    assert not Customer.objects.get(pk=other_controller.pk).marketing_objection, "another controller's register"
    assert not Customer.objects.get(pk=someone_else.pk).marketing_objection
    stored = ObjectionRecord.objects.order_by("pk")
    assert {(r.register_id, r.contact_person_id) for r in stored} == {
        (first.pk, None),
        (second.pk, None),
        (second.pk, contact.pk),
    }
    assert {r.channel for r in stored} == {"unsubscribe"}
    assert all(r.evidence == EVIDENCE and r.recorded_by is None for r in stored)
    # The contact person's change is in the audit trail like any other.
    entry = LogEntry.objects.get_for_object(contact).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert "marketing_objection" in entry.changes_dict


def test_running_it_again_records_nothing_more():
    register = RegisterFactory()
    PersonCustomerFactory(register=register, email="anna@example.fi")
    marketing_objection_by_address(organisation=register.organisation, email="anna@example.fi", evidence=EVIDENCE)
    again = marketing_objection_by_address(
        organisation=register.organisation, email="anna@example.fi", evidence=EVIDENCE
    )
    assert again == []
    assert ObjectionRecord.objects.count() == 1


def test_an_empty_address_marks_nobody():
    register = RegisterFactory()
    PersonCustomerFactory(register=register, email="")
    assert marketing_objection_by_address(organisation=register.organisation, email=" ", evidence=EVIDENCE) == []
    assert not Customer.objects.filter(marketing_objection=True).exists()
