"""`registers.access`: one query answers what a user may do, and it answers as guardian and the roles do.

The reference below is the permission query the selectors ran before (guardian's object permissions and a
role in force); every role, in every state of a role, for every permission, must give the same registers.
"""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from registers import roles
from registers.access import _request_cache, user_access
from registers.models import CommitmentAcceptance, ConfidentialityCommitment, Membership, Register, Role
from registers.selectors import register_list, request_gate_facts, user_can, user_roles
from registers.services import integration_scope_grant, membership_end
from tests.conftest import grant
from tests.factories import ContactCentreRegisterFactory, OrganisationFactory, RegisterFactory, UserFactory

PERMS = sorted({perm for perms in roles.ROLE_PERMISSIONS.values() for perm in perms})
TODAY = timezone.localdate


def reference_registers(user, perm: str) -> set[int]:
    """The registers guardian grants `perm` on, through a role not ended and not expired."""
    roles_with_perm = [role for role, perms in roles.ROLE_PERMISSIONS.items() if perm in perms]
    in_force = Membership.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=TODAY()),
        user=user,
        register=OuterRef("pk"),
        role__in=roles_with_perm,
        ended_at__isnull=True,
    )
    granted = get_objects_for_user(
        user, f"registers.{perm}", klass=Register, accept_global_perms=False, with_superuser=False
    )
    return set(granted.filter(Exists(in_force)).values_list("pk", flat=True))


def reference_gate(user) -> dict:
    active = Membership.objects.active().filter(user=user)
    current = ConfidentialityCommitment.objects.current().exclude(acceptances__user=user)
    organisations = Register.objects.filter(memberships__in=active).values("organisation_id")
    return {
        "main": user.groups.filter(name=roles.MAIN_USERS_GROUP).exists(),
        "owner": active.filter(role=Role.OWNER).exists(),
        "pending_all": current.exists(),
        "pending_own": current.filter(organisation_id__in=organisations).exists(),
    }


def _grant_any(user, register, role, *, actor):
    """A person's role through the grant service; an integration client's scope through its own (main users only)."""
    if role not in roles.MACHINE_ROLES:
        return grant(user, register, role, actor=actor)
    user.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION_CLIENTS_GROUP)[0])
    return integration_scope_grant(actor=actor, user=user, register=register, role=role, ends_on=None, reason="test")


def _states(user, role, register_factory):
    """A role in every state the access rules tell apart, each in a register of its own."""
    today = TODAY()
    actor = UserFactory(is_superuser=True)
    in_force = _grant_any(user, register_factory(), role, actor=actor)
    ending_today = _grant_any(user, register_factory(), role, actor=actor)
    Membership.objects.filter(pk=ending_today.pk).update(ends_on=today)
    # Past its end date but before the hourly sync took the group away.
    expired = _grant_any(user, register_factory(), role, actor=actor)
    Membership.objects.filter(pk=expired.pk).update(
        starts_on=today - datetime.timedelta(days=10), ends_on=today - datetime.timedelta(days=1)
    )
    ended = _grant_any(user, register_factory(), role, actor=actor)
    membership_end(actor=actor, membership=ended, reason="test")
    # Granted to start later: no group yet, so no access, though the row is there.
    register = register_factory()
    Membership.objects.create(
        user=user, register=register, role=role, granted_by=actor, starts_on=today + datetime.timedelta(days=3)
    )
    return in_force, ending_today, expired, ended


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_every_role_in_every_state_gives_the_registers_guardian_gives(role):
    user = UserFactory()
    outsider = UserFactory()
    archive_only = role in (Role.CONTACT_CENTRE_EXPERT, Role.CLIENT_MANAGER)
    factory = ContactCentreRegisterFactory if archive_only else RegisterFactory
    _states(user, role, factory)
    grant(outsider, factory(), Role.OWNER)
    for perm in PERMS:
        expected = reference_registers(user, perm)
        assert user_access(user).register_pks(perm) == expected, (role, perm)
        assert set(register_list(user=user, perm=perm).values_list("pk", flat=True)) == expected, (role, perm)
        for register in Register.objects.all():
            assert user_can(user=user, register=register, perm=perm) == (register.pk in expected), (role, perm)
    for register in Register.objects.all():
        assert user_roles(user=user, register=register) == set(
            Membership.objects.active().filter(user=user, register=register).values_list("role", flat=True)
        )


@pytest.mark.django_db
def test_a_permission_given_straight_to_the_user_counts_as_guardian_counts_it():
    from guardian.shortcuts import assign_perm

    user = UserFactory()
    register = RegisterFactory()
    grant(user, register, Role.STAFF)
    other = RegisterFactory()
    assign_perm(f"registers.{roles.MANAGE_ACCESS}", user, other)
    for perm in PERMS:
        assert user_access(user).register_pks(perm) == reference_registers(user, perm)


@pytest.mark.django_db
def test_an_inactive_user_may_do_nothing():
    user = UserFactory()
    register = RegisterFactory()
    grant(user, register, Role.OWNER)
    user.is_active = False
    user.save()
    assert not register_list(user=user).exists()
    assert not user_can(user=user, register=register, perm=roles.VIEW_DATA)


@pytest.mark.django_db
@pytest.mark.parametrize("main", [False, True])
@pytest.mark.parametrize("accepted", ["none", "old version", "current", "other organisation"])
def test_the_gate_flags_answer_as_the_commitment_rules_do(main, accepted):
    user = UserFactory()
    organisation = OrganisationFactory()
    register = RegisterFactory(organisation=organisation)
    grant(user, register, Role.OWNER)
    if main:
        user.groups.add(Group.objects.get_or_create(name=roles.MAIN_USERS_GROUP)[0])
    elsewhere = OrganisationFactory()
    old = ConfidentialityCommitment.objects.create(organisation=organisation, version=1, text_fi="v1")
    new = ConfidentialityCommitment.objects.create(organisation=organisation, version=2, text_fi="v2")
    other = ConfidentialityCommitment.objects.create(organisation=elsewhere, version=1, text_fi="x")
    chosen = {"none": None, "old version": old, "current": new, "other organisation": other}[accepted]
    if chosen is not None:
        CommitmentAcceptance.objects.create(user=user, commitment=chosen)
    access = user_access(user)
    expected = reference_gate(user)
    assert (access.in_main_users_group, access.owner, access.pending_all, access.pending_own) == (
        expected["main"],
        expected["owner"],
        expected["pending_all"],
        expected["pending_own"],
    )
    facts = request_gate_facts(user=user)
    assert facts["commitment_pending"] == (expected["pending_all"] if main else expected["pending_own"])


@pytest.mark.django_db
def test_within_a_request_the_answer_is_read_once_and_dropped_when_a_role_changes(django_assert_num_queries):
    user = UserFactory()
    register = RegisterFactory()
    membership = grant(user, register, Role.STAFF)
    token = _request_cache.set({})
    try:
        with django_assert_num_queries(1):
            for perm in PERMS:
                user_access(user).register_pks(perm)
            request_gate_facts(user=user)
            user_can(user=user, register=register, perm=roles.CHANGE_DATA)
        assert user_can(user=user, register=register, perm=roles.VIEW_DATA)
        membership_end(actor=UserFactory(is_superuser=True), membership=membership, reason="left")
        # The same request sees the end at once: the kept answer was dropped by the write.
        assert not user_can(user=user, register=register, perm=roles.VIEW_DATA)
    finally:
        _request_cache.reset(token)


@pytest.mark.django_db
def test_a_role_ended_between_two_requests_is_gone_on_the_next_one(client):
    user = UserFactory()
    register = RegisterFactory()
    membership = grant(user, register, Role.STAFF)
    client.force_login(user)
    url = reverse("crm:customer-list", kwargs={"register": register.slug})
    assert client.get(url).status_code == 200
    membership_end(actor=UserFactory(is_superuser=True), membership=membership, reason="left")
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_header_names_only_the_registers_the_user_may_see(client):
    user = UserFactory()
    seen = RegisterFactory(name_fi="Näkyvä rekisteri")
    ended = RegisterFactory(name_fi="Päättynyt rekisteri")
    RegisterFactory(name_fi="Vieras rekisteri")
    grant(user, seen, Role.STAFF)
    membership_end(actor=UserFactory(is_superuser=True), membership=grant(user, ended, Role.STAFF), reason="x")
    client.force_login(user)
    page = client.get(reverse("password_change")).content.decode()
    assert "Näkyvä rekisteri" in page
    assert "Päättynyt rekisteri" not in page
    assert "Vieras rekisteri" not in page


@pytest.mark.django_db
def test_the_fixed_cost_of_a_signed_in_page_is_three_queries(client):
    """Session, user, and `user_access`: whatever the user's roles, the gates and the header add nothing."""
    user = UserFactory()
    for _ in range(3):
        grant(user, RegisterFactory(), Role.STAFF)
    client.force_login(user)
    client.get(reverse("password_change"))
    from django.db import connection

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("password_change")).status_code == 200
    for _ in range(5):
        grant(user, RegisterFactory(), Role.HANDLER)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("password_change"))
    assert len(few) == len(many) == 3, [query["sql"][:80] for query in many]
