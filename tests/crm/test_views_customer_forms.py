import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from crm.forms import ERROR_TIME_OUT_OF_RANGE
from crm.models import ContactPerson, Customer, Interaction
from crm.services import (
    ERROR_EDIT_CONFLICT,
    ERROR_RESTRICTED,
    ERROR_RIGHTS_FIELD,
    contact_person_update,
    customer_update,
)
from crm.services import customer_marketing_objection_set as marketing_objection_set
from crm.validators import ERROR_BIDI_CONTROLS, ERROR_BUSINESS_ID, ERROR_IDENTITY_CODE, NOTE_MAX_LENGTH
from registers.models import CustomerField

from ..factories import ContactPersonFactory, CustomerFactory, InteractionFactory, PersonCustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def create_url(register, kind):
    return reverse("crm:customer-create", kwargs={"register": register.slug, "kind": kind})


def organisation_data(**overrides):
    data = {"version": 1, "organisation_name": "Merituuli Oy", "business_id": "0201256-6", "email": "info@merituuli.fi"}
    data.update(overrides)
    return data


def field_errors(response, name) -> list[str]:
    return response.context["form"].errors.get(name, [])


def test_staff_adds_an_organisation(client, staff_a, register_a):
    client.force_login(staff_a)
    response = client.post(create_url(register_a, "organisation"), organisation_data(business_id="02012566"))
    customer = Customer.objects.get(register=register_a)
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.kind == Customer.Kind.ORGANISATION
    assert customer.business_id == "0201256-6"  # Stored in its printed form.


def test_staff_adds_a_person(client, staff_a, register_a):
    client.force_login(staff_a)
    data = {"version": 1, "first_name": "Aino", "last_name": "Aaltonen", "date_of_birth": "1980-05-17"}
    assert client.post(create_url(register_a, "person"), data).status_code == 302
    customer = Customer.objects.get(register=register_a)
    assert customer.display_name == "Aino Aaltonen"
    assert str(customer.date_of_birth) == "1980-05-17"


def test_a_wrong_business_id_checksum_is_shown_next_to_the_field(client, staff_a, register_a):
    client.force_login(staff_a)
    response = client.post(create_url(register_a, "organisation"), organisation_data(business_id="0201256-7"))
    assert response.status_code == 200
    assert field_errors(response, "business_id") == [str(ERROR_BUSINESS_ID)]
    assert 'id="id_business_id_error"' in response.content.decode()
    assert not Customer.objects.exists()


def test_the_business_id_error_is_translated(client, staff_a, register_a, settings):
    settings.LANGUAGE_CODE = "sv"
    client.force_login(staff_a)
    response = client.post(create_url(register_a, "organisation"), organisation_data(business_id="0201256-7"))
    with translation.override("sv"):
        expected = str(ERROR_BUSINESS_ID)
    assert expected != "Enter a valid Finnish business ID (for example 1234567-8); the check digit does not match."
    assert field_errors(response, "business_id") == [expected]


def test_an_identity_code_in_free_text_is_refused_next_to_the_field(client, staff_a, register_a):
    client.force_login(staff_a)
    response = client.post(
        create_url(register_a, "organisation"), organisation_data(extra_info="Yhteyshenkilön hetu 131052-308T")
    )
    assert field_errors(response, "extra_info") == [str(ERROR_IDENTITY_CODE)]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("code", ["131052308T", "Asiakas 131052308T soitti", "010594Y9032"])
def test_an_identity_code_without_or_with_a_new_century_sign_is_refused(client, staff_a, register_a, code):
    client.force_login(staff_a)
    response = client.post(create_url(register_a, "organisation"), organisation_data(extra_info=code))
    assert field_errors(response, "extra_info") == [str(ERROR_IDENTITY_CODE)]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("field", ["landline", "mobile"])
@pytest.mark.parametrize("code", ["131052-308T", "131052308T"])
def test_an_identity_code_typed_as_a_phone_number_is_refused(client, staff_a, register_a, field, code):
    register_a.collected_fields = [CustomerField.LANDLINE, CustomerField.MOBILE]
    register_a.save()
    client.force_login(staff_a)
    data = {"version": 1, "first_name": "Aino", "last_name": "Aaltonen", field: code}
    response = client.post(create_url(register_a, "person"), data)
    assert response.status_code == 200
    assert field_errors(response, field) == [str(ERROR_IDENTITY_CODE)]
    assert f'value="{code}"' in response.content.decode()  # the clerk's typing is kept to be corrected
    assert not Customer.objects.exists()


@pytest.mark.parametrize("code", ["131052-308T", "131052308T"])
def test_an_identity_code_typed_as_a_contact_persons_phone_is_refused(client, staff_a, register_a, code):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    url = reverse("crm:contact-person-create", kwargs={"register": register_a.slug, "code": customer.code})
    response = client.post(url, {"version": 1, "last_name": "Korhonen", "phone": code})
    assert response.status_code == 200
    assert field_errors(response, "phone") == [str(ERROR_IDENTITY_CODE)]
    assert not ContactPerson.objects.exists()


def test_a_phone_number_written_out_is_still_accepted(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.MOBILE]
    register_a.save()
    client.force_login(staff_a)
    data = {"version": 1, "first_name": "Aino", "last_name": "Aaltonen", "mobile": "040 123 4567"}
    assert client.post(create_url(register_a, "person"), data).status_code == 302
    assert str(Customer.objects.get().mobile) == "+358401234567"


def test_a_name_with_a_text_direction_override_is_refused(client, staff_a, register_a):
    client.force_login(staff_a)
    data = {"version": 1, "first_name": "Aino", "last_name": "Aalto\u202enen"}
    response = client.post(create_url(register_a, "person"), data)
    assert response.status_code == 200
    assert field_errors(response, "last_name") == [str(ERROR_BIDI_CONTROLS)]
    assert not Customer.objects.exists()


def test_a_duplicate_business_id_is_shown_next_to_the_field(client, staff_a, register_a):
    CustomerFactory(register=register_a, business_id="0201256-6")
    client.force_login(staff_a)
    response = client.post(create_url(register_a, "organisation"), organisation_data())
    assert field_errors(response, "business_id") == [
        "A customer with this business ID already exists in this register."
    ]


def test_the_form_shows_only_fields_the_register_collects(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.EMAIL]
    register_a.save()
    client.force_login(staff_a)
    form = client.get(create_url(register_a, "organisation")).context["form"]
    assert list(form.fields) == ["organisation_name", "email", "version"]
    person_form = client.get(create_url(register_a, "person")).context["form"]
    assert list(person_form.fields) == ["first_name", "last_name", "email", "version"]


def test_an_unknown_customer_type_is_404(client, staff_a, register_a):
    client.force_login(staff_a)
    assert client.get(create_url(register_a, "robot")).status_code == 404


def test_a_field_the_register_does_not_collect_cannot_be_posted(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.EMAIL]
    register_a.save()
    client.force_login(staff_a)
    client.post(create_url(register_a, "organisation"), organisation_data(education="Tohtori", business_id=""))
    assert Customer.objects.get(register=register_a).education == ""


def test_posting_extra_fields_does_not_move_a_customer_to_another_register(client, staff_a, register_a, register_b):
    client.force_login(staff_a)
    client.post(create_url(register_a, "organisation"), organisation_data(register=register_b.pk, version=1))
    assert Customer.objects.get().register == register_a


class TestEditing:
    def update_url(self, customer):
        return reverse("crm:customer-update", kwargs={"register": customer.register.slug, "code": customer.code})

    def test_staff_changes_a_customer(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy")
        client.force_login(staff_a)
        response = client.post(self.update_url(customer), organisation_data(organisation_name="Uusi Oy", version=1))
        assert response.status_code == 302
        customer.refresh_from_db()
        assert customer.organisation_name == "Uusi Oy"
        assert customer.version == 2

    def test_the_form_starts_from_the_stored_values_and_version(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy")
        client.force_login(staff_a)
        html = client.get(self.update_url(customer)).content.decode()
        assert 'value="Vanha Oy"' in html
        assert 'name="version" value="1"' in html

    def test_a_concurrent_save_shows_a_conflict_and_keeps_the_users_input(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy", email="vanha@example.fi")
        client.force_login(staff_a)
        # Another user saves while this user has the form open at version 1.
        customer_update(actor=staff_a, customer=customer, data={"email": "toinen@example.fi"}, version=1)
        response = client.post(
            self.update_url(customer), organisation_data(organisation_name="Minun Oy", email="minun@example.fi")
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert str(ERROR_EDIT_CONFLICT) in response.context["form"].non_field_errors()
        assert 'value="Minun Oy"' in html  # The user's input is kept...
        assert "toinen@example.fi" in html  # ...next to what the other user saved.
        assert 'name="version" value="2"' in html
        customer.refresh_from_db()
        assert customer.organisation_name == "Vanha Oy"
        assert customer.email == "toinen@example.fi"
        # Saving again after review is a deliberate overwrite.
        client.post(self.update_url(customer), organisation_data(organisation_name="Minun Oy", version=2))
        customer.refresh_from_db()
        assert customer.organisation_name == "Minun Oy"

    def test_a_restricted_customer_cannot_be_changed(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy", processing_restricted=True)
        client.force_login(staff_a)
        response = client.post(self.update_url(customer), organisation_data(organisation_name="Uusi Oy"))
        assert str(ERROR_RESTRICTED) in response.context["form"].non_field_errors()
        customer.refresh_from_db()
        assert customer.organisation_name == "Vanha Oy"

    def test_unticking_an_objection_on_the_edit_form_changes_nothing(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        marketing_objection_set(actor=staff_a, customer=customer)
        customer.refresh_from_db()
        objected_at = customer.marketing_objection_at
        client.force_login(staff_a)
        # An unticked box is simply absent from the post; a forged "off" value is tried as well.
        for extra in ({}, {"marketing_objection": ""}, {"marketing_objection": "false"}):
            response = client.post(
                self.update_url(customer),
                organisation_data(organisation_name="Uusi Oy", version=customer.version, **extra),
            )
            assert response.status_code == 302
            customer.refresh_from_db()
            assert customer.marketing_objection
            assert customer.marketing_objection_at == objected_at
        assert "marketing_objection" not in client.get(self.update_url(customer)).content.decode()

    def test_posting_the_objection_or_restriction_fields_changes_neither(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        client.force_login(staff_a)
        client.post(
            self.update_url(customer),
            organisation_data(marketing_objection="on", processing_restricted="on", version=customer.version),
        )
        customer.refresh_from_db()
        assert not customer.marketing_objection
        assert not customer.processing_restricted

    def test_the_update_service_refuses_to_change_an_objection_or_restriction(self, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        marketing_objection_set(actor=staff_a, customer=customer)
        customer.refresh_from_db()
        for data in ({"marketing_objection": False}, {"processing_restricted": True}):
            with pytest.raises(ValidationError) as caught:
                customer_update(actor=staff_a, customer=customer, data=data, version=customer.version)
            assert caught.value.message_dict == {name: [str(ERROR_RIGHTS_FIELD)] for name in data}
        customer.refresh_from_db()
        assert customer.marketing_objection
        assert not customer.processing_restricted

    def test_the_owner_deletes_a_customer_after_confirming(self, client, owner_a, register_a):
        customer = CustomerFactory(register=register_a)
        InteractionFactory(customer=customer)
        url = reverse("crm:customer-delete", kwargs={"register": register_a.slug, "code": customer.code})
        client.force_login(owner_a)
        assert client.get(url).status_code == 200
        assert Customer.objects.filter(pk=customer.pk).exists()
        response = client.post(url)
        assert response["Location"] == reverse("crm:customer-list", kwargs={"register": register_a.slug})
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not Interaction.objects.exists()


class TestContactPersons:
    def url(self, name, customer, person=None):
        kwargs = {"register": customer.register.slug, "code": customer.code}
        if person:
            kwargs["person"] = person.code
        return reverse(f"crm:contact-person-{name}", kwargs=kwargs)

    def test_staff_adds_edits_and_removes_a_contact_person(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        client.force_login(staff_a)
        data = {"version": 1, "first_name": "Kalle", "last_name": "Korhonen", "phone": "040 123 4567"}
        assert client.post(self.url("create", customer), data).status_code == 302
        person = ContactPerson.objects.get(customer=customer)
        assert str(person.phone) == "+358401234567"
        data.update(title="Toimitusjohtaja")
        assert client.post(self.url("update", customer, person), data).status_code == 302
        person.refresh_from_db()
        assert person.title == "Toimitusjohtaja"
        assert person.version == 2
        assert client.post(self.url("delete", customer, person)).status_code == 302
        assert not ContactPerson.objects.exists()

    def test_an_invalid_phone_and_email_are_shown_next_to_the_fields(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        client.force_login(staff_a)
        data = {"version": 1, "last_name": "Korhonen", "phone": "12", "email": "ei-sähköposti"}
        response = client.post(self.url("create", customer), data)
        assert field_errors(response, "phone")
        assert field_errors(response, "email") == ["Enter a valid email address."]

    def test_a_concurrent_edit_of_a_contact_person_is_a_conflict(self, client, staff_a, register_a):
        person = ContactPersonFactory(customer=CustomerFactory(register=register_a), last_name="Korhonen")
        ContactPerson.objects.filter(pk=person.pk).update(version=2)
        client.force_login(staff_a)
        response = client.post(self.url("update", person.customer, person), {"version": 1, "last_name": "Virtanen"})
        assert str(ERROR_EDIT_CONFLICT) in response.context["form"].non_field_errors()
        person.refresh_from_db()
        assert person.last_name == "Korhonen"

    def test_a_person_customer_has_no_contact_persons(self, client, staff_a, register_a):
        client.force_login(staff_a)
        assert client.get(self.url("create", PersonCustomerFactory(register=register_a))).status_code == 404

    def test_another_customers_contact_person_is_404(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        other = ContactPersonFactory(customer=CustomerFactory(register=register_a))
        client.force_login(staff_a)
        assert client.get(self.url("update", customer, other)).status_code == 404


class TestInteractions:
    def url(self, name, customer, interaction=None):
        kwargs = {"register": customer.register.slug, "code": customer.code}
        if interaction:
            kwargs["interaction"] = interaction.code
        return reverse(f"crm:interaction-{name}", kwargs=kwargs)

    def test_staff_adds_an_interaction_that_appears_on_the_timeline(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        person = ContactPersonFactory(customer=customer, first_name="Kalle", last_name="Korhonen")
        client.force_login(staff_a)
        data = {
            "kind": "call_in",
            "occurred_at": "2026-03-02T14:30",
            "subject": "Kysyi messuista",
            "text": "Soittaa takaisin.",
            "contact_person": str(person.code),
        }
        assert client.post(self.url("create", customer), data).status_code == 302
        interaction = Interaction.objects.get(customer=customer)
        assert interaction.staff_user == staff_a
        assert interaction.contact_person == person
        html = client.get(customer.get_absolute_url()).content.decode()
        assert "Kysyi messuista" in html
        assert "With Kalle Korhonen." in html

    def test_a_contact_person_of_another_customer_is_refused(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        other = ContactPersonFactory(customer=CustomerFactory(register=register_a))
        client.force_login(staff_a)
        data = {"kind": "note", "occurred_at": "2026-03-02T14:30", "subject": "x", "contact_person": str(other.code)}
        response = client.post(self.url("create", customer), data)
        assert field_errors(response, "contact_person")
        assert not Interaction.objects.exists()

    def test_staff_corrects_and_removes_an_interaction(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        interaction = InteractionFactory(customer=customer, subject="Väärä", staff_user=staff_a)
        client.force_login(staff_a)
        data = {"kind": "meeting", "occurred_at": "2026-03-02T14:30", "subject": "Oikea"}
        assert client.post(self.url("update", customer, interaction), data).status_code == 302
        interaction.refresh_from_db()
        assert interaction.subject == "Oikea"
        assert client.post(self.url("delete", customer, interaction)).status_code == 302
        assert not Interaction.objects.exists()

    @pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00", "1899-12-31T23:59", "9999-12-31T23:59"])
    def test_a_time_out_of_range_is_refused_with_a_translated_error(self, client, staff_a, register_a, occurred_at):
        customer = CustomerFactory(register=register_a)
        client.force_login(staff_a)
        data = {"kind": "note", "occurred_at": occurred_at, "subject": "Vuosi ykkönen", "text": "Säilyy lomakkeella."}
        with translation.override("fi"):
            response = client.post(self.url("create", customer), data, HTTP_ACCEPT_LANGUAGE="fi")
            expected = str(ERROR_TIME_OUT_OF_RANGE % {"earliest": 1900, "latest": 2100})
            # The form's errors are lazy: read them in the page's language.
            assert field_errors(response, "occurred_at") == [expected]
        assert expected.startswith("Anna aika")
        assert expected in response.content.decode()
        assert response.status_code == 200
        assert "Säilyy lomakkeella." in response.content.decode()
        assert not Interaction.objects.exists()

    def test_a_megabyte_of_text_is_refused_and_nothing_is_stored(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        client.force_login(staff_a)
        data = {"kind": "note", "occurred_at": "2026-03-02T14:30", "subject": "Pitkä", "text": "x" * 1_000_000}
        response = client.post(self.url("create", customer), data)
        assert response.status_code == 200
        assert field_errors(response, "text") == [
            f"Ensure this value has at most {NOTE_MAX_LENGTH} characters (it has 1000000)."
        ]
        assert not Interaction.objects.exists()

    def test_a_missing_subject_is_shown_next_to_the_field(self, client, staff_a, register_a):
        customer = CustomerFactory(register=register_a)
        client.force_login(staff_a)
        response = client.post(self.url("create", customer), {"kind": "note", "occurred_at": "2026-03-02T14:30"})
        assert field_errors(response, "subject") == ["This field is required."]


def test_a_corrected_address_clears_the_bounce_mark_and_an_unchanged_one_keeps_it(staff_a, register_a):
    bounced = timezone.now()
    customer = CustomerFactory(register=register_a, email="vanha@example.fi", email_bounced_at=bounced)
    customer = customer_update(actor=staff_a, customer=customer, data={"city": "Espoo"}, version=1)
    assert customer.email_bounced_at == bounced
    customer = customer_update(actor=staff_a, customer=customer, data={"email": "uusi@example.fi"}, version=2)
    assert customer.email_bounced_at is None

    person = ContactPersonFactory(customer=customer, email="vanha@example.fi", email_bounced_at=bounced)
    person = contact_person_update(actor=staff_a, person=person, data={"email": "Vanha@Example.fi"}, version=1)
    assert person.email_bounced_at == bounced
    person = contact_person_update(actor=staff_a, person=person, data={"email": "uusi@example.fi"}, version=2)
    assert person.email_bounced_at is None
