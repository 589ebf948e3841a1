"""Tag services: who may name tags, who may put them on customers, and what the audit trail shows."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from crm import tagging
from crm.models import ContactPersonTag, Customer, CustomerTag, Tag
from crm.services import ERROR_RESTRICTED

from ..factories import ContactPersonFactory, CustomerFactory
from .factories import TagFactory

pytestmark = pytest.mark.django_db


def customer_entries(customer):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk, action=LogEntry.Action.UPDATE
    )


def test_the_owner_and_handler_create_tags_and_staff_may_not(register_a, owner_a, handler_a, staff_a, readonly_a):
    tagging.tag_create(actor=owner_a, register=register_a, name="Messut")
    tagging.tag_create(actor=handler_a, register=register_a, name=" Vientineuvonta ")
    assert sorted(Tag.objects.filter(register=register_a).values_list("name", flat=True)) == [
        "Messut",
        "Vientineuvonta",
    ]
    for user in (staff_a, readonly_a):
        with pytest.raises(PermissionDenied):
            tagging.tag_create(actor=user, register=register_a, name="Oma")


def test_a_tag_name_is_unique_per_register_whatever_its_case(register_a, register_b, owner_a, tag_a, tag_b):
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            tagging.tag_create(actor=owner_a, register=register_a, name="MESSUT 2027")
        assert "The register already has a tag with this name." in caught.value.messages
    assert Tag.objects.filter(register=register_a).count() == 1


def test_rename_and_delete_need_the_right(register_a, handler_a, staff_a, tag_a):
    with pytest.raises(PermissionDenied):
        tagging.tag_rename(actor=staff_a, tag=tag_a, name="Toinen")
    with pytest.raises(PermissionDenied):
        tagging.tag_delete(actor=staff_a, tag=tag_a)
    tagging.tag_rename(actor=handler_a, tag=tag_a, name="Toinen")
    tag_a.refresh_from_db()
    assert tag_a.name == "Toinen"
    customer = CustomerFactory(register=register_a)
    CustomerTag.objects.create(tag=tag_a, customer=customer)
    tagging.tag_delete(actor=handler_a, tag=tag_a)
    assert not CustomerTag.objects.filter(customer=customer).exists()


def test_staff_apply_a_tag_once_and_the_customer_history_shows_it(register_a, staff_a, tag_a):
    customer = CustomerFactory(register=register_a)
    other = TagFactory(register=register_a, name="Asiakaslehti")
    tagging.tag_apply(actor=staff_a, tag=other, customer=customer)
    assert tagging.tag_apply(actor=staff_a, tag=tag_a, customer=customer) is True
    assert tagging.tag_apply(actor=staff_a, tag=tag_a, customer=customer) is False
    assert CustomerTag.objects.filter(tag=tag_a, customer=customer).count() == 1
    entry = customer_entries(customer).order_by("pk").last()
    assert entry.actor == staff_a
    assert entry.changes_dict == {"tags": ["Asiakaslehti", "Asiakaslehti, Messut 2027"]}
    assert entry.additional_data["register"] == register_a.pk

    assert tagging.tag_remove(actor=staff_a, tag=tag_a, customer=customer) is True
    assert tagging.tag_remove(actor=staff_a, tag=tag_a, customer=customer) is False
    assert customer_entries(customer).order_by("pk").last().changes_dict == {
        "tags": ["Asiakaslehti, Messut 2027", "Asiakaslehti"]
    }
    assert customer_entries(customer).count() == 3


def test_read_only_roles_and_other_registers_tags_are_refused(register_a, readonly_a, staff_a, tag_b):
    customer = CustomerFactory(register=register_a)
    own = TagFactory(register=register_a)
    with pytest.raises(PermissionDenied):
        tagging.tag_apply(actor=readonly_a, tag=own, customer=customer)
    with pytest.raises(ValidationError):
        tagging.tag_apply(actor=staff_a, tag=tag_b, customer=customer)
    assert not CustomerTag.objects.exists()


def test_a_restricted_customer_gets_no_tag(register_a, staff_a, tag_a):
    customer = CustomerFactory(register=register_a, processing_restricted=True)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        tagging.tag_apply(actor=staff_a, tag=tag_a, customer=customer)
    assert caught.value.messages == [str(ERROR_RESTRICTED)]
    assert not CustomerTag.objects.exists()


def test_contact_persons_carry_tags_audited_on_their_organisation(register_a, staff_a, tag_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a))
    assert tagging.tag_apply(actor=staff_a, tag=tag_a, contact_person=person) is True
    assert tagging.tag_apply(actor=staff_a, tag=tag_a, contact_person=person) is False
    assert ContactPersonTag.objects.filter(contact_person=person).count() == 1
    entry = customer_entries(person.customer).get()
    assert entry.changes_dict == {"contact_person_tags": ["", "Messut 2027"]}
    assert entry.additional_data["contact_person"] == str(person.code)
    assert tagging.tag_remove(actor=staff_a, tag=tag_a, contact_person=person) is True
    assert not ContactPersonTag.objects.exists()


def test_bulk_tagging_skips_linked_restricted_and_foreign_customers(register_a, register_b, staff_a, tag_a):
    customers = [CustomerFactory(register=register_a) for _ in range(5)]
    CustomerTag.objects.create(tag=tag_a, customer=customers[0])
    restricted = CustomerFactory(register=register_a, processing_restricted=True)
    foreign = CustomerFactory(register=register_b)
    ids = [customer.pk for customer in [*customers, restricted, foreign]]
    assert tagging.tags_apply_bulk(actor=staff_a, tag=tag_a, customer_ids=ids) == 4
    assert set(CustomerTag.objects.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    assert CustomerTag.objects.count() == 5
    assert tagging.tags_apply_bulk(actor=staff_a, tag=tag_a, customer_ids=ids) == 0
    assert tagging.tags_remove_bulk(actor=staff_a, tag=tag_a, customer_ids=ids) == 5
    assert not CustomerTag.objects.exists()


def test_bulk_tagging_costs_the_same_queries_for_30_and_300(register_a, staff_a, tag_a, django_assert_max_num_queries):
    few_ids = [CustomerFactory(register=register_a).pk for _ in range(30)]
    many_ids = [CustomerFactory(register=register_a).pk for _ in range(300)]
    with django_assert_max_num_queries(6):
        assert tagging.tags_apply_bulk(actor=staff_a, tag=tag_a, customer_ids=few_ids) == 30
    with django_assert_max_num_queries(6):
        assert tagging.tags_apply_bulk(actor=staff_a, tag=tag_a, customer_ids=many_ids) == 300
    assert CustomerTag.objects.filter(tag=tag_a).count() == 330


def test_bulk_tagging_needs_the_change_right(register_a, readonly_a, tag_a):
    customer = CustomerFactory(register=register_a)
    with pytest.raises(PermissionDenied):
        tagging.tags_apply_bulk(actor=readonly_a, tag=tag_a, customer_ids=[customer.pk])
