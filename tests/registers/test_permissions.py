import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.selectors import customer_list
from registers import roles
from registers.models import Membership, Role
from registers.selectors import register_list, user_can
from registers.services import membership_end, membership_grant, memberships_sync

from ..conftest import grant
from ..factories import CustomerFactory, RegisterFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    # Guardian caches permissions on the user instance.
    return get_user_model().objects.get(pk=user.pk)


def test_guardian_permissions_separate_two_registers(register_a, register_b, staff_a, staff_b):
    customer_a = CustomerFactory(register=register_a)
    customer_b = CustomerFactory(register=register_b)
    assert list(register_list(user=staff_a)) == [register_a]
    assert list(customer_list(user=staff_a)) == [customer_a]
    assert list(customer_list(user=staff_b)) == [customer_b]
    assert staff_a.has_perm(f"registers.{roles.VIEW_DATA}", register_a)
    assert not staff_a.has_perm(f"registers.{roles.VIEW_DATA}", register_b)


def test_a_user_without_any_role_sees_nothing(register_a):
    CustomerFactory(register=register_a)
    outsider = UserFactory()
    assert not register_list(user=outsider).exists()
    assert not customer_list(user=outsider).exists()


def test_a_superuser_gets_no_personal_data_without_a_role(register_a):
    CustomerFactory(register=register_a)
    admin = UserFactory(is_superuser=True)
    assert not customer_list(user=admin).exists()


def test_roles_carry_their_permissions(register_a, owner_a, staff_a, readonly_a):
    assert user_can(user=owner_a, register=register_a, perm=roles.APPROVE_REQUESTS)
    assert user_can(user=staff_a, register=register_a, perm=roles.CHANGE_DATA)
    assert not user_can(user=staff_a, register=register_a, perm=roles.REVIEW_ACCESS)
    assert user_can(user=readonly_a, register=register_a, perm=roles.VIEW_DATA)
    assert not user_can(user=readonly_a, register=register_a, perm=roles.CHANGE_DATA)


def test_ending_a_membership_removes_access_at_once(register_a, owner_a, staff_a):
    membership = Membership.objects.get(user=staff_a, register=register_a)
    membership_end(actor=owner_a, membership=membership, reason="Siirtyi muihin tehtäviin")
    assert not register_list(user=fresh(staff_a)).exists()
    membership.refresh_from_db()
    assert membership.ended_by == owner_a
    assert membership.end_reason == "Siirtyi muihin tehtäviin"


def test_ending_needs_a_reason(register_a, owner_a, staff_a):
    membership = Membership.objects.get(user=staff_a, register=register_a)
    with pytest.raises(ValidationError):
        membership_end(actor=owner_a, membership=membership, reason=" ")
    assert register_list(user=fresh(staff_a)).exists()


def test_a_handler_cannot_grant_the_owner_role(register_a, handler_a):
    with pytest.raises(PermissionDenied):
        membership_grant(actor=handler_a, user=handler_a, register=register_a, role=Role.OWNER)
    newcomer = UserFactory()
    membership_grant(actor=handler_a, user=newcomer, register=register_a, role=Role.STAFF)
    assert register_list(user=fresh(newcomer)).exists()


def test_a_staff_user_cannot_grant_anything(register_a, staff_a):
    with pytest.raises(PermissionDenied):
        membership_grant(actor=staff_a, user=UserFactory(), register=register_a, role=Role.STAFF)


def test_a_handler_of_one_register_cannot_grant_in_another(register_b, handler_a):
    with pytest.raises(PermissionDenied):
        membership_grant(actor=handler_a, user=UserFactory(), register=register_b, role=Role.STAFF)


def test_a_membership_records_who_granted_it_and_when(register_a, owner_a):
    user = UserFactory()
    membership = membership_grant(
        actor=owner_a, user=user, register=register_a, role=Role.STAFF, reason="Uusi työntekijä"
    )
    assert membership.granted_by == owner_a
    assert membership.starts_on == timezone.localdate()
    assert membership.grant_reason == "Uusi työntekijä"


def test_a_future_membership_grants_nothing_until_it_starts(register_a, owner_a):
    user = UserFactory()
    start = timezone.localdate() + datetime.timedelta(days=3)
    membership_grant(actor=owner_a, user=user, register=register_a, role=Role.STAFF, starts_on=start)
    assert not register_list(user=fresh(user)).exists()
    memberships_sync(today=start)
    assert register_list(user=fresh(user)).exists()


def test_access_ends_on_the_end_date(register_a, owner_a):
    user = UserFactory()
    last_day = timezone.localdate() + datetime.timedelta(days=10)
    membership_grant(actor=owner_a, user=user, register=register_a, role=Role.STAFF, ends_on=last_day)
    memberships_sync(today=last_day)
    assert register_list(user=fresh(user)).exists()
    result = memberships_sync(today=last_day + datetime.timedelta(days=1))
    assert result["ended"] == 1
    assert not register_list(user=fresh(user)).exists()
    assert Membership.objects.get(user=user).ended_at is not None


def test_an_end_date_before_the_start_is_refused(register_a, owner_a):
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        membership_grant(
            actor=owner_a,
            user=UserFactory(),
            register=register_a,
            role=Role.STAFF,
            ends_on=today - datetime.timedelta(days=1),
        )


def test_the_same_open_role_cannot_be_granted_twice(register_a, owner_a, staff_a):
    with pytest.raises(ValidationError):
        membership_grant(actor=owner_a, user=staff_a, register=register_a, role=Role.STAFF)


def test_ending_one_of_two_roles_keeps_the_other(register_a, owner_a):
    user = UserFactory()
    grant(user, register_a, Role.STAFF)
    handler = grant(user, register_a, Role.HANDLER)
    membership_end(actor=owner_a, membership=handler, reason="Sijaisuus päättyi")
    user = fresh(user)
    assert user_can(user=user, register=register_a, perm=roles.CHANGE_DATA)
    assert not user_can(user=user, register=register_a, perm=roles.HANDLE_REQUESTS)


def test_a_deactivated_user_sees_nothing(register_a, staff_a):
    staff_a.is_active = False
    staff_a.save()
    assert not register_list(user=fresh(staff_a)).exists()


def test_register_parts_are_separate_spaces(db):
    parent = RegisterFactory(slug="helsinki")
    tourism = RegisterFactory(slug="tourism", parent=parent)
    development = RegisterFactory(slug="development", parent=parent)
    user = UserFactory()
    grant(user, tourism, Role.STAFF)
    CustomerFactory(register=development)
    assert list(register_list(user=fresh(user))) == [tourism]
    assert not customer_list(user=fresh(user)).exists()


def test_each_role_group_holds_exactly_its_roles_permissions_on_its_own_register_however_often_ensured():
    from guardian.shortcuts import get_perms

    from registers.services import register_role_groups_ensure

    register, other = RegisterFactory(), RegisterFactory()
    first = register_role_groups_ensure(register=register)
    again = register_role_groups_ensure(register=register)
    assert first == again
    assert set(first) == set(roles.ROLE_PERMISSIONS)
    for role, group in first.items():
        assert group.name == f"register:{register.code}:{role}"
        assert sorted(get_perms(group, register)) == sorted(roles.ROLE_PERMISSIONS[role])
        assert get_perms(group, other) == []
        assert group.registergroupobjectpermission_set.count() == len(roles.ROLE_PERMISSIONS[role])
