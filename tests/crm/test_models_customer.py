import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from crm.models import ERROR_NOT_COLLECTED, ERROR_ORGANISATION_ONLY, ContactPerson, Customer
from crm.services import contact_person_create, customer_create
from crm.validators import ERROR_BUSINESS_ID, ERROR_IDENTITY_CODE
from registers.models import CustomerField

from ..factories import CustomerFactory, PersonCustomerFactory, RegisterFactory, UserFactory

pytestmark = pytest.mark.django_db


def errors_of(callable_, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        callable_(*args, **kwargs)
    return caught.value.message_dict


def test_it_names_the_field_of_an_invalid_business_id(register_a, staff_a):
    errors = errors_of(
        customer_create,
        actor=staff_a,
        register=register_a,
        data={"kind": "organisation", "organisation_name": "Oy Ab", "business_id": "0201256-7"},
    )
    assert errors["business_id"] == [str(ERROR_BUSINESS_ID)]
    assert not Customer.objects.exists()


def test_it_stores_the_business_id_in_printed_form(register_a, staff_a):
    customer = customer_create(
        actor=staff_a,
        register=register_a,
        data={"kind": "organisation", "organisation_name": "Oy Ab", "business_id": "02012566"},
    )
    assert customer.business_id == "0201256-6"


def test_business_id_is_unique_within_a_register_only(register_a, register_b, staff_a):
    data = {"kind": "organisation", "organisation_name": "Oy Ab", "business_id": "0201256-6"}
    customer_create(actor=staff_a, register=register_a, data=data)
    with translation.override("en"):
        errors = errors_of(customer_create, actor=staff_a, register=register_a, data=data)
        assert "A customer with this business ID already exists in this register." in errors["__all__"]
    customer_create(actor=staff_a, register=register_b, data=data)
    assert Customer.objects.filter(business_id="0201256-6").count() == 2


def test_database_rejects_a_duplicate_business_id_that_skips_validation(register_a):
    CustomerFactory(register=register_a, business_id="0201256-6")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(register=register_a, business_id="0201256-6")


def test_an_organisation_only_field_on_a_person_is_an_error(register_a, staff_a):
    errors = errors_of(
        customer_create,
        actor=staff_a,
        register=register_a,
        data={"kind": "person", "last_name": "Virtanen", "business_id": "0201256-6", "organisation_name": "X"},
    )
    assert errors["business_id"] == [str(ERROR_ORGANISATION_ONLY)]
    assert errors["organisation_name"] == [str(ERROR_ORGANISATION_ONLY)]


def test_a_birth_date_on_an_organisation_is_an_error(register_a, staff_a):
    errors = errors_of(
        customer_create,
        actor=staff_a,
        register=register_a,
        data={"kind": "organisation", "organisation_name": "Oy", "date_of_birth": datetime.date(1990, 1, 1)},
    )
    assert "date_of_birth" in errors


def test_a_birth_date_in_the_future_is_an_error(register_a, staff_a):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    errors = errors_of(
        customer_create,
        actor=staff_a,
        register=register_a,
        data={"kind": "person", "last_name": "Virtanen", "date_of_birth": tomorrow},
    )
    assert "date_of_birth" in errors


def test_a_field_the_register_does_not_collect_is_refused(staff_a):
    register = RegisterFactory(collected_fields=[CustomerField.EMAIL])
    with pytest.raises(ValidationError) as caught:
        customer_create(
            actor=staff_a,
            register=register,
            data={"kind": "person", "last_name": "Virtanen", "education": "FM", "email": "a@b.fi"},
        )
    assert caught.value.message_dict == {"education": [str(ERROR_NOT_COLLECTED)]}


def test_fields_collected_by_a_register_follow_its_description():
    register = RegisterFactory.build(collected_fields=[CustomerField.ADDRESS, CustomerField.EMAIL])
    assert Customer.fields_collected_by(register) == ["street_address", "postal_code", "city", "country", "email"]


def test_phone_numbers_are_normalised_and_invalid_ones_refused(register_a, staff_a):
    customer = customer_create(
        actor=staff_a,
        register=register_a,
        data={"kind": "person", "last_name": "Virtanen", "mobile": "040 123 4567", "landline": "09 310 1234"},
    )
    customer.refresh_from_db()
    assert str(customer.mobile) == "+358401234567"
    assert str(customer.landline) == "+35893101234"
    errors = errors_of(
        customer_create, actor=staff_a, register=register_a, data={"kind": "person", "last_name": "V", "fax": "12"}
    )
    assert "fax" in errors


def test_an_invalid_email_is_refused(register_a, staff_a):
    errors = errors_of(
        customer_create,
        actor=staff_a,
        register=register_a,
        data={"kind": "person", "last_name": "V", "email": "not-an-address"},
    )
    assert "email" in errors


@pytest.mark.parametrize("field", ["extra_info", "occupation", "last_name", "city"])
def test_an_identity_code_in_any_text_field_is_refused(register_a, staff_a, field):
    data = {"kind": "person", "last_name": "Virtanen", field: "tunnus 131052-308T"}
    errors = errors_of(customer_create, actor=staff_a, register=register_a, data=data)
    assert str(ERROR_IDENTITY_CODE) in errors[field]
    assert not Customer.objects.exists()


def test_the_identity_code_guard_runs_when_save_bypasses_forms(register_a):
    customer = CustomerFactory(register=register_a)
    customer.extra_info = "hetu 010594Y9032"
    with pytest.raises(ValidationError):
        customer.save()
    customer.refresh_from_db()
    assert customer.extra_info == ""


def test_the_identity_code_guard_runs_on_bulk_create(register_a):
    with pytest.raises(ValidationError):
        Customer.objects.bulk_create(
            [Customer(register=register_a, kind="person", last_name="Virtanen", extra_info="131052-308T")]
        )
    assert not Customer.objects.exists()


def test_identity_codes_are_refused_on_contact_persons_too(register_a, staff_a):
    customer = CustomerFactory(register=register_a)
    errors = errors_of(
        contact_person_create,
        actor=staff_a,
        customer=customer,
        data={"last_name": "Korhonen", "interests": "131052-308T"},
    )
    assert "interests" in errors
    assert not ContactPerson.objects.exists()


def test_a_person_customer_cannot_have_contact_persons(register_a, staff_a):
    person = PersonCustomerFactory(register=register_a)
    errors = errors_of(contact_person_create, actor=staff_a, customer=person, data={"last_name": "Korhonen"})
    assert "customer" in errors


def test_validation_errors_are_translated_to_swedish(register_a, staff_a):
    with translation.override("sv"):
        errors = errors_of(
            customer_create,
            actor=staff_a,
            register=register_a,
            data={"kind": "organisation", "organisation_name": "Ab", "business_id": "0201256-7"},
        )
    assert "FO-nummer" in errors["business_id"][0]


def test_creating_a_customer_is_audited_with_its_actor(register_a, staff_a):
    customer = customer_create(
        actor=staff_a, register=register_a, data={"kind": "person", "last_name": "Virtanen", "email": "v@x.fi"}
    )
    entry = LogEntry.objects.get_for_object(customer).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == staff_a
    assert "sort_name" not in entry.changes_dict


def test_unicode_names_are_stored_as_given(register_a, staff_a):
    customer = customer_create(
        actor=staff_a,
        register=register_a,
        data={"kind": "person", "first_name": "Åsa-Öllö", "last_name": "Ähtäri 🌲 شريف"},
    )
    customer.refresh_from_db()
    assert customer.display_name == "Åsa-Öllö Ähtäri 🌲 شريف"


def test_control_characters_are_refused(register_a, staff_a):
    errors = errors_of(
        customer_create, actor=staff_a, register=register_a, data={"kind": "person", "last_name": "Vir\x00tanen"}
    )
    assert "last_name" in errors


def test_user_passwords_never_reach_the_audit_log(db):
    from auditlog.registry import auditlog
    from django.contrib.auth import get_user_model

    user = UserFactory()
    user.set_password("uusi salasana joka on pitkä")
    user.save()
    assert not auditlog.contains(get_user_model())
    assert not LogEntry.objects.filter(changes_text__contains="pbkdf2").exists()
