"""Follow-up services: who may add one, to whom, on which customer, and what the audit trail keeps."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from crm import services as crm_services
from followups import services
from followups.models import FollowUp
from registers.models import Role
from registers.services import membership_end

from ..conftest import grant
from ..factories import ContactPersonFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


def entries(followup_pk, action):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(FollowUp), object_id=followup_pk, action=action
    )


def test_staff_give_a_colleague_a_follow_up_and_the_trail_names_the_actor(register_a, staff_a, handler_a):
    customer = CustomerFactory(register=register_a)
    person = ContactPersonFactory(customer=customer)
    followup = services.followup_create(
        actor=staff_a, customer=customer, assignee=handler_a, due_on=TOMORROW, note="Soita", contact_person=person
    )
    assert (followup.assignee, followup.contact_person, followup.created_by) == (handler_a, person, staff_a)
    [entry] = entries(followup.pk, LogEntry.Action.CREATE)
    assert entry.actor == staff_a
    assert entry.additional_data["register"] == register_a.pk


def test_a_read_only_role_may_not_add_a_follow_up(register_a, readonly_a, staff_a):
    customer = CustomerFactory(register=register_a)
    with pytest.raises(PermissionDenied):
        services.followup_create(actor=readonly_a, customer=customer, assignee=staff_a, due_on=TOMORROW)
    assert not FollowUp.objects.exists()


def test_the_assignee_must_hold_a_role_in_the_customers_register(register_a, staff_a, staff_b):
    customer = CustomerFactory(register=register_a)
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            services.followup_create(actor=staff_a, customer=customer, assignee=staff_b, due_on=TOMORROW)
        assert error.value.message_dict == {"assignee": ["The assignee must hold a role in the customer's register."]}


def test_an_ended_role_no_longer_takes_follow_ups(register_a, staff_a, owner_a):
    colleague = UserFactory()
    membership = grant(colleague, register_a, Role.STAFF)
    membership_end(actor=owner_a, membership=membership, reason="left")
    with pytest.raises(ValidationError):
        services.followup_create(
            actor=staff_a, customer=CustomerFactory(register=register_a), assignee=colleague, due_on=TOMORROW
        )


def test_a_contact_person_of_another_customer_is_refused(register_a, staff_a):
    customer = CustomerFactory(register=register_a)
    stranger = ContactPersonFactory(customer=CustomerFactory(register=register_a))
    with pytest.raises(ValidationError) as error:
        services.followup_create(
            actor=staff_a, customer=customer, assignee=staff_a, due_on=TOMORROW, contact_person=stranger
        )
    assert "contact_person" in error.value.message_dict


def test_restricted_processing_blocks_new_work_on_the_person(register_a, staff_a, owner_a):
    customer = CustomerFactory(register=register_a)
    followup = services.followup_create(actor=staff_a, customer=customer, assignee=staff_a, due_on=TOMORROW)
    crm_services.customer_restriction_set(actor=owner_a, customer=customer, restricted=True)
    for attempt in (
        lambda: services.followup_create(actor=staff_a, customer=customer, assignee=staff_a, due_on=TOMORROW),
        lambda: services.followup_done(actor=staff_a, followup=followup),
        lambda: services.followup_update(actor=staff_a, followup=followup, assignee=staff_a, due_on=TOMORROW),
    ):
        with pytest.raises(ValidationError) as error:
            attempt()
        with translation.override("en"):
            assert error.value.messages == ["Processing of this customer's data is restricted; it cannot be changed."]
    assert FollowUp.objects.get().done_at is None


def test_done_and_reopen_record_who_and_when_in_the_trail(register_a, staff_a):
    followup = services.followup_create(
        actor=staff_a, customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TOMORROW
    )
    done = services.followup_done(actor=staff_a, followup=followup)
    assert done.done_at is not None
    assert done.done_by == staff_a
    assert "done_at" in entries(followup.pk, LogEntry.Action.UPDATE).get().changes_dict
    reopened = services.followup_reopen(actor=staff_a, followup=followup)
    assert (reopened.done_at, reopened.done_by) == (None, None)
    assert entries(followup.pk, LogEntry.Action.UPDATE).count() == 2


def test_an_update_may_hand_the_follow_up_to_another_member(register_a, staff_a, handler_a):
    followup = services.followup_create(
        actor=staff_a, customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TOMORROW
    )
    later = TOMORROW + datetime.timedelta(days=7)
    services.followup_update(actor=staff_a, followup=followup, assignee=handler_a, due_on=later, note="Uusi")
    followup.refresh_from_db()
    assert (followup.assignee, followup.due_on, followup.note) == (handler_a, later, "Uusi")


def test_a_removed_follow_up_is_gone_with_a_delete_entry(register_a, staff_a):
    followup = services.followup_create(
        actor=staff_a, customer=CustomerFactory(register=register_a), assignee=staff_a, due_on=TOMORROW
    )
    services.followup_delete(actor=staff_a, followup=followup)
    assert not FollowUp.objects.exists()
    assert entries(followup.pk, LogEntry.Action.DELETE).get().actor == staff_a


def test_the_bulk_assignment_skips_restricted_and_foreign_customers(register_a, register_b, staff_a, owner_a):
    mine = [CustomerFactory(register=register_a) for _ in range(3)]
    restricted = CustomerFactory(register=register_a)
    crm_services.customer_restriction_set(actor=owner_a, customer=restricted, restricted=True)
    foreign = CustomerFactory(register=register_b)
    count = services.followups_assign_bulk(
        actor=staff_a,
        register=register_a,
        customer_ids=[c.pk for c in [*mine, restricted, foreign]],
        assignee=owner_a,
        due_on=TOMORROW,
        note="Kampanjan jälkisoitto",
    )
    assert count == 3
    assert set(FollowUp.objects.values_list("customer_id", flat=True)) == {c.pk for c in mine}
    # Each created row has its CREATE entry in the register's trail, as a single save would write it.
    created = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(FollowUp), action=LogEntry.Action.CREATE
    )
    assert created.count() == 3
    assert {entry.additional_data["register"] for entry in created} == {register_a.pk}
    assert {entry.actor_id for entry in created} == {staff_a.pk}


def test_the_bulk_assignment_costs_the_same_for_few_and_many(register_a, staff_a):
    few = [CustomerFactory(register=register_a).pk for _ in range(2)]
    many = [CustomerFactory(register=register_a).pk for _ in range(40)]

    def queries(ids) -> int:
        with CaptureQueriesContext(connection) as context:
            services.followups_assign_bulk(
                actor=staff_a, register=register_a, customer_ids=ids, assignee=staff_a, due_on=TOMORROW
            )
        return len(context.captured_queries)

    assert queries(few) == queries(many)


def test_the_bulk_assignment_refuses_a_read_only_actor_and_an_outside_assignee(
    register_a, readonly_a, staff_a, staff_b
):
    ids = [CustomerFactory(register=register_a).pk]
    with pytest.raises(PermissionDenied):
        services.followups_assign_bulk(
            actor=readonly_a, register=register_a, customer_ids=ids, assignee=staff_a, due_on=TOMORROW
        )
    with pytest.raises(ValidationError):
        services.followups_assign_bulk(
            actor=staff_a, register=register_a, customer_ids=ids, assignee=staff_b, due_on=TOMORROW
        )
    assert not FollowUp.objects.exists()


def test_the_digest_setting_is_remembered_on_the_profile(staff_a):
    assert services.followup_digest_set(actor=staff_a, enabled=False).followup_digest is False
    assert services.followup_digest_set(actor=staff_a, enabled=True).followup_digest is True
