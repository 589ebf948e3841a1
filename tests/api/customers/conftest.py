"""Two registers, A and B, each with an organisation customer, a contact person and an interaction, and clients
whose scopes name register A only."""

from dataclasses import dataclass

import pytest

from crm.models import ContactPerson, Customer, Interaction
from registers.models import Register

from ...factories import ContactPersonFactory, CustomerFactory, InteractionFactory, RegisterFactory
from ..factories import READ, WRITE, KeyClient, api_client


@dataclass
class Side:
    register: Register
    customer: Customer
    person: ContactPerson
    interaction: Interaction

    @property
    def base(self) -> str:
        return f"/api/v1/registers/{self.register.slug}"

    @property
    def customer_url(self) -> str:
        return f"{self.base}/customers/{self.customer.code}/"

    @property
    def person_url(self) -> str:
        return f"{self.customer_url}contact-persons/{self.person.code}/"

    @property
    def interaction_url(self) -> str:
        return f"{self.customer_url}interactions/{self.interaction.code}/"


def side() -> Side:
    register = RegisterFactory()
    customer = CustomerFactory(register=register)
    return Side(
        register=register,
        customer=customer,
        person=ContactPersonFactory(customer=customer),
        interaction=InteractionFactory(customer=customer),
    )


@pytest.fixture(autouse=True)
def _own_cache(private_cache):
    """Each test counts its clients' calls in a cache of its own."""


@pytest.fixture
def a() -> Side:
    return side()


@pytest.fixture
def b() -> Side:
    return side()


@pytest.fixture
def reader(a):
    client, key = api_client({a.register: READ}, name="Lukija")
    caller = KeyClient(key, HTTP_ACCEPT_LANGUAGE="en")
    caller.machine = client.user
    caller.api_client = client
    return caller


@pytest.fixture
def writer(a):
    client, key = api_client({a.register: WRITE}, name="Kirjoittaja")
    caller = KeyClient(key, HTTP_ACCEPT_LANGUAGE="en")
    caller.machine = client.user
    caller.api_client = client
    return caller


@pytest.fixture
def own_interaction(a, writer):
    """An interaction the writing client recorded itself (a client changes only its own entries)."""
    return InteractionFactory(customer=a.customer, staff_user=writer.machine)
