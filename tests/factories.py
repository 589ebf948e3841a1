import datetime
import functools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from crm.models import (
    CallRecording,
    ContactCentreMessage,
    ContactPerson,
    Customer,
    Interaction,
    Invoice,
    OrderingClient,
)
from privacy.rights.models import ConsentNotice, ConsentRecord
from registers.models import CustomerField, Organisation, Register

DEFAULT_PASSWORD = "kirsikkapuu kukkii keväällä"


@functools.cache
def _password_hash() -> str:
    # Hashing once keeps the suite fast while users still carry a real hash.
    return make_password(DEFAULT_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fi_FI")
    last_name = factory.Faker("last_name", locale="fi_FI")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.fi")
    password = factory.LazyFunction(_password_hash)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name_fi",)

    name_fi = factory.Sequence(lambda n: f"Kaupunki {n}")
    address = "Kaupungintalo, 00100 Helsinki"
    registry_email = "kirjaamo@example.fi"


class RegisterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Register

    slug = factory.Sequence(lambda n: f"register-{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    name_fi = factory.Sequence(lambda n: f"Asiakasrekisteri {n}")
    name_sv = factory.Sequence(lambda n: f"Kundregister {n}")
    name_en = factory.Sequence(lambda n: f"Customer register {n}")
    owner_fi = "Elinkeinopäällikkö"
    purposes_fi = "Asiakkuuksien hoito"
    legal_bases = factory.LazyFunction(lambda: ["e"])
    data_categories_fi = "Nimi ja yhteystiedot"
    collected_fields = factory.LazyFunction(lambda: list(CustomerField.values))
    retention_months = 36

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from registers.services import register_role_groups_ensure

        register = super()._create(model_class, *args, **kwargs)
        register_role_groups_ensure(register=register)
        return register


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    register = factory.SubFactory(RegisterFactory)
    kind = Customer.Kind.ORGANISATION
    organisation_name = factory.Faker("company", locale="fi_FI")
    email = factory.Sequence(lambda n: f"info{n}@yritys.example.fi")
    language = Customer.Language.FINNISH


class PersonCustomerFactory(CustomerFactory):
    kind = Customer.Kind.PERSON
    organisation_name = ""
    first_name = factory.Faker("first_name", locale="fi_FI")
    last_name = factory.Faker("last_name", locale="fi_FI")
    date_of_birth = datetime.date(1980, 5, 17)


class ContactPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    customer = factory.SubFactory(CustomerFactory)
    first_name = factory.Faker("first_name", locale="fi_FI")
    last_name = factory.Faker("last_name", locale="fi_FI")
    title = "Toimitusjohtaja"
    email = factory.Sequence(lambda n: f"yhteys{n}@yritys.example.fi")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = Interaction.Kind.MEETING
    subject = factory.Sequence(lambda n: f"Tapaaminen {n}")
    occurred_at = factory.LazyFunction(timezone.now)


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    amount = "120.00"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))


class ContactCentreRegisterFactory(RegisterFactory):
    kind = Register.Kind.CONTACT_CENTRE
    collected_fields = factory.LazyFunction(list)
    retention_months = None


class OrderingClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderingClient

    register = factory.SubFactory(ContactCentreRegisterFactory)
    department = factory.Sequence(lambda n: f"Toimiala {n}")


class ContactCentreMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactCentreMessage

    ordering_client = factory.SubFactory(OrderingClientFactory)
    register = factory.SelfAttribute("ordering_client.register")
    direction = ContactCentreMessage.Direction.INCOMING
    sender = "asiakas@example.fi"
    recipient = "palvelu@hel.example.fi"
    subject = "Kysymys"
    body = "Hei, kysyisin aukioloajoista."
    sent_at = factory.LazyFunction(timezone.now)


class CallRecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallRecording

    ordering_client = factory.SubFactory(OrderingClientFactory)
    register = factory.SelfAttribute("ordering_client.register")
    recorded_at = factory.LazyFunction(timezone.now)
    agent_location_code = "HKI-12"
    caller_number_fragment = "4567"


class ConsentNoticeFactory(factory.django.DjangoModelFactory):
    """A version of a register's notice text, in force since an hour ago (the service starts versions today or later;
    a test that needs one already in force builds it here)."""

    class Meta:
        model = ConsentNotice

    register = factory.SubFactory(RegisterFactory)
    kind = ConsentNotice.Kind.CONSENT
    purpose = ConsentRecord.Purpose.NEWSLETTER
    version = factory.Sequence(lambda n: f"2026-{n + 1}")
    valid_from = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    text_fi = factory.LazyAttribute(lambda n: f"Suostun uutiskirjeeseen (versio {n.version}).")
    text_sv = factory.LazyAttribute(lambda n: f"Jag samtycker till nyhetsbrevet (version {n.version}).")
    text_en = factory.LazyAttribute(lambda n: f"I agree to the newsletter (version {n.version}).")
    created_by = factory.SubFactory(UserFactory)
