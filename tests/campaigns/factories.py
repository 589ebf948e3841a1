"""Campaign test data, built through the services so tests walk only legal states."""

from campaigns import services
from campaigns.models import Campaign
from registers.models import Role
from tests.conftest import grant
from tests.factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory, RegisterFactory, UserFactory

TEXTS = {
    "subject_fi": "Tervetuloa messuille",
    "body_fi": "Hei! Tule messuille.",
    "subject_sv": "Välkommen till mässan",
    "body_sv": "Hej! Kom till mässan.",
    "subject_en": "Welcome to the fair",
    "body_en": "Hello! Come to the fair.",
}


def marketing_register(**fields):
    return RegisterFactory(direct_marketing=True, **fields)


def sender(register, username="sender"):
    user = UserFactory(username=username)
    grant(user, register, Role.HANDLER)
    return user


def campaign_draft(*, actor, register, **data) -> Campaign:
    values = {"name": "Messukutsu", "audience": Campaign.Audience.PERSONS, "rate_per_minute": 100_000, **TEXTS}
    values.update(data)
    return services.campaign_create(actor=actor, register=register, data=values)


def person(register, **fields):
    return PersonCustomerFactory(register=register, **fields)


def organisation(register, **fields):
    return CustomerFactory(register=register, **fields)


def contact(customer, **fields):
    return ContactPersonFactory(customer=customer, **fields)
