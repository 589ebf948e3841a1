"""The benchmark data generator: contact persons, users with roles and log entries, each for its register."""

import io

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from crm.models import ContactPerson, Customer, Interaction
from registers.models import Membership, Register
from registers.selectors import user_roles

pytestmark = pytest.mark.django_db


def generate(**options):
    call_command("generate_data", stdout=io.StringIO(), **options)


def test_customers_get_contact_persons_on_organisations_only():
    generate(customers=200, interactions=400)
    register = Register.objects.get(slug="benchmark")
    assert Customer.objects.filter(register=register).count() == 200
    assert Interaction.objects.filter(customer__register=register).count() == 400
    persons = ContactPerson.objects.filter(customer__register=register)
    # 1.3 per customer on average (drawn at random: a wide margin for 200 customers).
    assert 180 <= persons.count() <= 340
    assert not persons.exclude(customer__kind=Customer.Kind.ORGANISATION).exists()
    domains = {email.partition("@")[2] for email in persons.values_list("email", flat=True)}
    assert all(domain.endswith(".example.fi") for domain in domains)
    # An interaction's contact person belongs to its customer.
    linked = Interaction.objects.filter(contact_person__isnull=False)
    assert linked.exists()
    for interaction in linked.select_related("contact_person"):
        assert interaction.contact_person.customer_id == interaction.customer_id


def test_users_hold_their_roles_through_memberships_and_role_groups():
    generate(customers=5, users=30)
    register = Register.objects.get(slug="benchmark")
    memberships = Membership.objects.filter(register=register, user__username__startswith="bench.user.")
    assert memberships.count() == 30
    assert memberships.filter(ended_at__isnull=False).exists()
    for membership in memberships.select_related("user"):
        in_force = membership.ended_at is None
        # Permissions come from the register's role group, as when a role is granted.
        in_group = membership.user.groups.filter(register_role__register=register, register_role__role=membership.role)
        assert in_group.exists() == in_force
        assert (membership.role in user_roles(user=membership.user, register=register)) == in_force
    # A second call adds new users, never the same names twice.
    generate(users=5)
    assert Membership.objects.filter(register=register, user__username__startswith="bench.user.").count() == 35


def test_log_entries_each_carry_their_register():
    generate(customers=20, interactions=30, users=3)
    register = Register.objects.get(slug="benchmark")
    last = LogEntry.objects.order_by("pk").last().pk
    generate(log_entries=150)
    entries = LogEntry.objects.filter(pk__gt=last)
    assert entries.count() == 150
    assert entries.filter(additional_data__register=register.pk).count() == 150
    # Half record changes (creations first, then updates), half record views of customers.
    assert entries.filter(action=LogEntry.Action.ACCESS).count() == 75
    assert entries.filter(action=LogEntry.Action.CREATE).count() == 75
    assert set(entries.values_list("actor__memberships__register", flat=True)) == {register.pk}


def test_refuses_interactions_without_customers():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        generate(interactions=10)
