"""Which records a strong sign-in links to the person at once, and which wait for a handler."""

import pytest

from registers.models import Role
from selfservice.models import IdentityLink, SubjectIdentity

from ..conftest import grant
from ..factories import CustomerFactory, PersonCustomerFactory, RegisterFactory, UserFactory

EMAIL = "maija.meikalainen@example.fi"


def maija(register, **changes):
    fields = {"first_name": "Maija", "last_name": "Meikäläinen", "email": EMAIL, **changes}
    return PersonCustomerFactory(register=register, **fields)


def links_by_customer():
    return {link.customer_id: link for link in IdentityLink.objects.all()}


def test_a_person_in_three_registers_is_linked_in_each_and_sees_them_all(provider, person_client):
    registers = [RegisterFactory() for _ in range(3)]
    customers = [maija(register, email=EMAIL.upper() if n == 1 else EMAIL) for n, register in enumerate(registers)]
    provider.sign_in(person_client)
    identity = SubjectIdentity.objects.get()
    links = links_by_customer()
    for customer in customers:
        link = links[customer.pk]
        assert (link.state, link.basis) == (IdentityLink.State.LINKED, IdentityLink.Basis.EXACT_MATCH)
        customer.refresh_from_db()
        assert customer.profile_id == identity.profile_id  # the customer profile's GDPR API finds it now
    page = person_client.get("/my-data/").content.decode()
    for register in registers:
        assert register.name_en in page or register.name_fi in page


@pytest.mark.parametrize(
    ("others", "changes"),
    [
        pytest.param(1, {}, id="two records with the same e-mail and name"),
        pytest.param(0, {"first_name": "Maria"}, id="e-mail only"),
        pytest.param(0, {"email": "toinen@example.fi"}, id="name only"),
    ],
)
def test_anything_but_an_exact_unambiguous_match_waits_for_a_handler(provider, person_client, others, changes):
    register = RegisterFactory()
    candidates = [maija(register, **changes) for _ in range(1 + others)]
    provider.sign_in(person_client)
    links = links_by_customer()
    assert [links[c.pk].state for c in candidates] == [IdentityLink.State.PROPOSED] * len(candidates)
    page = person_client.get("/my-data/")
    assert page.context["parts"] == []
    assert page.context["pending_links"] == len(candidates)
    for customer in candidates:
        customer.refresh_from_db()
        assert customer.profile_id is None


def test_an_unverified_e_mail_never_links_by_itself(provider, person_client):
    customer = maija(RegisterFactory())
    provider.sign_in(person_client, email_verified=False)
    assert links_by_customer()[customer.pk].state == IdentityLink.State.PROPOSED


def test_a_record_linked_to_another_profile_keeps_its_link(provider, person_client):
    other = "0b5f6c7d-1111-4222-8333-944455556666"
    customer = maija(RegisterFactory(), profile_id=other)
    provider.sign_in(person_client)
    assert links_by_customer()[customer.pk].state == IdentityLink.State.PROPOSED
    customer.refresh_from_db()
    assert str(customer.profile_id) == other


def test_a_record_carrying_the_persons_profile_id_is_linked_whatever_its_name(provider, person_client):
    customer = PersonCustomerFactory(
        register=RegisterFactory(), first_name="M.", last_name="M.", profile_id="5d0f3c1e-7a47-4e43-9c3f-1f2a3b4c5d6e"
    )
    provider.sign_in(person_client)
    link = links_by_customer()[customer.pk]
    assert (link.state, link.basis) == (IdentityLink.State.LINKED, IdentityLink.Basis.PROFILE)


def test_organisations_are_never_matched(provider, person_client):
    CustomerFactory(register=RegisterFactory(), organisation_name="Maija Meikäläinen Oy", email=EMAIL)
    provider.sign_in(person_client)
    assert not IdentityLink.objects.exists()


@pytest.fixture
def proposed(provider, person_client):
    register = RegisterFactory()
    first, second = maija(register), maija(register)
    provider.sign_in(person_client)
    return register, first, second


def test_a_handler_confirms_one_record_and_rejects_the_other(proposed, client, person_client):
    register, first, second = proposed
    handler = UserFactory()
    grant(handler, register, Role.HANDLER)
    client.force_login(handler)
    queue = client.get("/identity-links/")
    assert queue.status_code == 200
    assert len(queue.context["links"]) == 2
    links = links_by_customer()
    assert client.post(f"/identity-links/{links[first.pk].pk}/confirm/").status_code == 302
    assert client.post(f"/identity-links/{links[second.pk].pk}/reject/").status_code == 302
    links = links_by_customer()
    assert links[first.pk].state == IdentityLink.State.LINKED
    assert links[first.pk].decided_by == handler
    assert links[second.pk].state == IdentityLink.State.REJECTED
    first.refresh_from_db()
    assert first.profile_id == SubjectIdentity.objects.get().profile_id
    # The person sees the confirmed record only, and a new sign-in does not propose the rejected one again.
    page = person_client.get("/my-data/")
    shown = [record["name"] for part in page.context["parts"] for record in part["records"]]
    assert shown == [first.display_name]
    assert page.context["pending_links"] == 0
    # A decided link cannot be decided again.
    client.post(f"/identity-links/{links[second.pk].pk}/confirm/")
    assert links_by_customer()[second.pk].state == IdentityLink.State.REJECTED


@pytest.mark.parametrize("role", [Role.STAFF, None])
def test_only_the_registers_handlers_decide(proposed, client, role):
    register, first, _second = proposed
    user = UserFactory()
    if role:
        grant(user, register, role)
    other_handler = UserFactory()
    grant(other_handler, RegisterFactory(), Role.HANDLER)
    link = links_by_customer()[first.pk]
    for each in (user, other_handler):
        client.force_login(each)
        assert client.get("/identity-links/").context["links"].count() == 0
        assert client.post(f"/identity-links/{link.pk}/confirm/").status_code == 404
    assert links_by_customer()[first.pk].state == IdentityLink.State.PROPOSED


def test_the_handlers_front_page_counts_the_records_waiting_for_them(proposed, client):
    register, _first, _second = proposed
    handler, staff = UserFactory(), UserFactory()
    grant(handler, register, Role.HANDLER)
    grant(staff, register, Role.STAFF)
    client.force_login(handler)
    assert 'href="/identity-links/"' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.force_login(staff)
    assert 'href="/identity-links/"' not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_person_gone_for_a_year_is_forgotten_unless_a_request_is_open(provider, person_client, settings):
    import datetime

    from django.utils import timezone

    from selfservice.services import identities_forget
    from selfservice.tasks import identities_forget as task

    register = RegisterFactory()
    customer = maija(register)
    provider.sign_in(person_client)
    provider.sign_in(person_client, sub="another-person", email="toinen@example.fi", given_name="Toinen")
    person_client.post(
        f"/my-data/requests/new/{register.organisation.code}/",
        {"kind": "access", "registers": [register.slug], "language": "fi", "delivery": "electronic"},
    )
    later = timezone.now() + datetime.timedelta(days=settings.SUBJECT_IDENTITY_RETENTION_DAYS + 1)
    assert identities_forget(now=timezone.now()) == 0
    assert identities_forget(now=later) == 1
    assert list(SubjectIdentity.objects.values_list("subject", flat=True)) == ["another-person"]
    assert not IdentityLink.objects.filter(customer=customer).exists()
    customer.refresh_from_db()
    assert customer.profile_id is not None  # the record's own link to the profile stays
    assert task() == 0  # the beat task's entry point
