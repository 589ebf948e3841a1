import re

import pytest
from django.core.exceptions import ValidationError

from crm.forms import CustomerFilterForm, CustomerForm, add_model_errors
from crm.validators import ERROR_BUSINESS_ID, ERROR_CONTROL_CHARACTERS, ERROR_IDENTITY_CODE
from registers.models import CustomerField

from ..factories import RegisterFactory


@pytest.fixture
def register():
    return RegisterFactory.build(collected_fields=[CustomerField.BUSINESS_ID, CustomerField.EMAIL])


def customer_form(register, **data):
    return CustomerForm(
        {"version": 1, "organisation_name": "Merituuli Oy", **data}, register=register, kind="organisation"
    )


def test_a_business_id_without_its_hyphen_is_stored_in_printed_form(register):
    form = customer_form(register, business_id=" 02012566 ")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["business_id"] == "0201256-6"


def test_a_business_id_with_a_wrong_check_digit_is_refused(register):
    form = customer_form(register, business_id="0201256-7")
    assert form.errors["business_id"] == [str(ERROR_BUSINESS_ID)]


def test_identity_codes_and_control_characters_are_refused_in_every_text_field(register):
    form = customer_form(register, organisation_name="Oy 131052-308T", email="info@example.fi")
    assert form.errors["organisation_name"] == [str(ERROR_IDENTITY_CODE)]
    form = customer_form(register, organisation_name="Oy\x07Ab")
    assert form.errors["organisation_name"] == [str(ERROR_CONTROL_CHARACTERS)]


def test_the_service_gets_the_kind_and_not_the_version(register):
    form = customer_form(register, business_id="0201256-6", email="info@example.fi")
    assert form.is_valid()
    data = form.service_data()
    assert data["kind"] == "organisation"
    assert "version" not in data


def test_a_person_form_has_no_organisation_fields(register):
    form = CustomerForm(register=register, kind="person")
    assert "business_id" not in form.fields
    assert "organisation_name" not in form.fields
    assert form.fields["last_name"].required


def test_model_errors_land_next_to_their_fields(register):
    form = customer_form(register)
    assert form.is_valid()
    add_model_errors(form, ValidationError({"email": ["Väärin."], "register": ["Ei tähän rekisteriin."]}))
    assert form.errors["email"] == ["Väärin."]
    # A field the form does not show is reported above the form.
    assert form.non_field_errors() == ["Ei tähän rekisteriin."]


def test_the_filter_form_keeps_valid_filters_and_drops_invalid_ones(register):
    form = CustomerFilterForm({"q": "  tuuli ", "kind": "robot", "inactive_months": "0"}, register=register)
    form.is_valid()
    kwargs = form.selector_kwargs()
    assert kwargs["search"] == "tuuli"
    assert kwargs["kind"] == ""
    assert kwargs["inactive_months"] is None
    assert kwargs["ordering"] == "name"
    assert "language" not in form.fields  # The register does not collect the language.


def test_an_unbound_filter_form_lists_everything(register):
    form = CustomerFilterForm(None, register=register)
    form.is_valid()
    assert form.selector_kwargs() == {
        "search": "",
        "kind": "",
        "language": "",
        "marketing_objection": None,
        "inactive_months": None,
        "tag": "",
        "ordering": "name",
    }


def test_the_business_id_examples_the_user_is_shown_are_accepted(register):
    # The help text and the error both show an example; the form must accept what they recommend.
    texts = [str(customer_form(register).fields["business_id"].help_text), str(ERROR_BUSINESS_ID)]
    examples = [example for text in texts for example in re.findall(r"\d{7}-\d", text)]
    assert len(examples) == 2
    for example in examples:
        form = customer_form(register, business_id=example)
        assert form.is_valid(), (example, form.errors)
