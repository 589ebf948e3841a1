"""Restriction (GDPR 18) at every entry point: each service of `crm.services` that changes a customer's data, and
each view that calls one, refuses a restricted customer and changes nothing (PRIVACY.md "Restriction").

The table below names every public function of `crm.services`; a service added without an entry fails
`test_every_crm_service_has_an_entry`, so a new way of changing customer data cannot skip the restriction unseen.
"""

import inspect
from dataclasses import dataclass

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from crm import services as crm_services
from crm.models import ContactPerson, Customer, Interaction, Invoice

from ...factories import ContactPersonFactory, CustomerFactory, InteractionFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


@dataclass
class World:
    actor: object
    customer: Customer
    person: ContactPerson
    interaction: Interaction


GUARDED = {
    "customer_update": lambda w: crm_services.customer_update(
        actor=w.actor, customer=w.customer, data={"city": "Oulu"}, version=w.customer.version
    ),
    "customer_delete": lambda w: crm_services.customer_delete(actor=w.actor, customer=w.customer),
    "contact_person_create": lambda w: crm_services.contact_person_create(
        actor=w.actor, customer=w.customer, data={"last_name": "Uusi"}
    ),
    "contact_person_update": lambda w: crm_services.contact_person_update(
        actor=w.actor, person=w.person, data={"title": "Hallituksen jäsen"}, version=w.person.version
    ),
    "contact_person_delete": lambda w: crm_services.contact_person_delete(actor=w.actor, person=w.person),
    "interaction_create": lambda w: crm_services.interaction_create(
        actor=w.actor, customer=w.customer, data={"kind": Interaction.Kind.NOTE, "subject": "Uusi merkintä"}
    ),
    "interaction_update": lambda w: crm_services.interaction_update(
        actor=w.actor, interaction=w.interaction, data={"subject": "Muutettu"}
    ),
    "interaction_delete": lambda w: crm_services.interaction_delete(actor=w.actor, interaction=w.interaction),
}
# Services that may run on a restricted customer, and why.
EXEMPT = {
    "customer_create": "adds a new customer: nothing about it is restricted yet",
    "customer_marketing_objection_set": "an objection only narrows processing, and takes effect at once (art. 21(3))",
    "contact_person_marketing_objection_set": "a contact person's own objection, likewise at once (art. 21(3))",
    "invoice_status_set": "the state of a claim, kept for the legal claim itself (art. 18(2)); it decides erasure",
    "customer_profile_link": "links the record to the person's own profile, through which they exercise their rights",
    "customer_profile_link_by_identification": "the same link, made by the person's own strong identification",
    "customer_restriction_set": "the restriction's own step, which also lifts it",
}


def test_every_crm_service_has_an_entry():
    public = {
        name
        for name, function in inspect.getmembers(crm_services, inspect.isfunction)
        if function.__module__ == crm_services.__name__ and not name.startswith("_")
    }
    assert public == set(GUARDED) | set(EXEMPT)
    assert not set(GUARDED) & set(EXEMPT)


def _state(customer_pk) -> tuple:
    # Everything a change could touch: the rows under the customer and the audit entries that record changes.
    rows = (
        list(Customer.objects.filter(pk=customer_pk).values()),
        list(ContactPerson.objects.filter(customer_id=customer_pk).order_by("pk").values()),
        list(Interaction.objects.filter(customer_id=customer_pk).order_by("pk").values()),
        list(Invoice.objects.filter(customer_id=customer_pk).order_by("pk").values()),
    )
    changes = LogEntry.objects.exclude(action=LogEntry.Action.ACCESS).count()
    return rows, changes


@pytest.fixture
def restricted_world(register_a, owner_a):
    """An organisation with a contact person, an interaction and an invoice, and the same objects as loaded before
    the restriction (an edit form left open while it was applied). The owner acts: only the owner may delete a
    customer or change a colleague's entry, so every guarded step is theirs to try."""
    customer = CustomerFactory(register=register_a, city="Turku")
    person = ContactPersonFactory(customer=customer)
    interaction = InteractionFactory(customer=customer, contact_person=person)
    InvoiceFactory(customer=customer)
    stale = World(owner_a, Customer.objects.get(pk=customer.pk), person, Interaction.objects.get(pk=interaction.pk))
    crm_services.customer_restriction_set(actor=owner_a, customer=customer, restricted=True)
    fresh = World(
        owner_a,
        Customer.objects.get(pk=customer.pk),
        ContactPerson.objects.get(pk=person.pk),
        Interaction.objects.select_related("customer").get(pk=interaction.pk),
    )
    return {"fresh": fresh, "stale": stale}


@pytest.mark.parametrize("loaded", ["fresh", "stale"])
@pytest.mark.parametrize("service", sorted(GUARDED))
def test_each_service_refuses_a_restricted_customer_and_changes_nothing(restricted_world, service, loaded):
    world = restricted_world[loaded]
    before = _state(world.customer.pk)

    with pytest.raises(ValidationError) as refused:
        GUARDED[service](world)

    assert refused.value.code == "restricted"
    assert refused.value.messages == [str(crm_services.ERROR_RESTRICTED)]
    assert _state(world.customer.pk) == before


@pytest.mark.parametrize("service", sorted(GUARDED))
def test_each_service_works_once_the_restriction_is_lifted(restricted_world, service):
    world = restricted_world["fresh"]
    crm_services.customer_restriction_set(actor=world.actor, customer=world.customer, restricted=False)
    world.customer.refresh_from_db()
    before = _state(world.customer.pk)

    GUARDED[service](world)

    assert _state(world.customer.pk) != before


def _customer_url(name, customer, **kwargs):
    return reverse(f"crm:{name}", kwargs={"register": customer.register.slug, "code": customer.code, **kwargs})


# Every view that calls a guarded service, with a valid form, so that only the restriction can refuse it.
VIEWS = {
    "customer_update": lambda w: (
        _customer_url("customer-update", w.customer),
        {"organisation_name": "Muutettu Oy", "city": "Oulu", "version": w.customer.version},
    ),
    "customer_delete": lambda w: (_customer_url("customer-delete", w.customer), {}),
    "contact_person_create": lambda w: (
        _customer_url("contact-person-create", w.customer),
        {"last_name": "Uusi", "version": 1},
    ),
    "contact_person_update": lambda w: (
        _customer_url("contact-person-update", w.customer, person=w.person.code),
        {"last_name": "Muutettu", "version": w.person.version},
    ),
    "contact_person_delete": lambda w: (_customer_url("contact-person-delete", w.customer, person=w.person.code), {}),
    "interaction_create": lambda w: (
        _customer_url("interaction-create", w.customer),
        {"kind": Interaction.Kind.NOTE, "subject": "Uusi", "occurred_at": _now_field()},
    ),
    "interaction_update": lambda w: (
        _customer_url("interaction-update", w.customer, interaction=w.interaction.code),
        {"kind": Interaction.Kind.NOTE, "subject": "Muutettu", "occurred_at": _now_field()},
    ),
    "interaction_delete": lambda w: (
        _customer_url("interaction-delete", w.customer, interaction=w.interaction.code),
        {},
    ),
}
# Guarded services that no view calls, and why.
NO_VIEW: dict[str, str] = {}


def _now_field() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def test_every_guarded_service_has_a_view_entry_or_a_reason():
    assert set(VIEWS) | set(NO_VIEW) == set(GUARDED)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_each_view_answers_a_restricted_customer_with_the_translated_message(client, restricted_world, view):
    world = restricted_world["fresh"]
    client.force_login(world.actor)
    path, data = VIEWS[view](world)
    before = _state(world.customer.pk)

    response = client.post(path, data, follow=True, HTTP_ACCEPT_LANGUAGE="fi")

    assert response.status_code == 200
    with translation.override("fi"):
        message = str(crm_services.ERROR_RESTRICTED)
    assert message != "Processing of this customer's data is restricted; it cannot be changed."
    assert message in response.content.decode()
    assert _state(world.customer.pk) == before
