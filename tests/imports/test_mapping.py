"""Mapping a file's columns to fields: suggestions in Finnish, Swedish and English, and the errors a mapping has."""

import pytest
from django.utils import translation

from imports.mapping import (
    ERROR_LINK_MISSING,
    ERROR_NAME_MISSING,
    ERROR_NOT_COLLECTED,
    KIND_CONTACT_PERSONS,
    KIND_CUSTOMERS,
    KIND_INTERACTIONS,
    importable_fields,
    mapping_errors,
    suggest_mapping,
)
from registers.models import CustomerField

from ..factories import RegisterFactory


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def register():
    return RegisterFactory.build()


def suggest(headers, register, kind=KIND_CUSTOMERS):
    return {headers[index]: field for index, field in suggest_mapping(headers, register=register, kind=kind).items()}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Y-tunnus", "business_id"),
        ("Ytunnus", "business_id"),
        ("FO-nummer", "business_id"),
        ("Business ID", "business_id"),
        ("Business identity code", "business_id"),
        ("Sähköposti", "email"),
        ("E-post", "email"),
        ("Email", "email"),
        ("E-MAIL", "email"),
        ("Postinumero", "postal_code"),
        ("Postnummer", "postal_code"),
        ("Postal code", "postal_code"),
        ("Zip", "postal_code"),
        ("Nimi", "organisation_name"),
        ("Yrityksen nimi", "organisation_name"),
        ("Företagets namn", "organisation_name"),
        ("Company", "organisation_name"),
        ("Etunimi", "first_name"),
        ("Förnamn", "first_name"),
        ("First name", "first_name"),
        ("Sukunimi", "last_name"),
        ("Efternamn", "last_name"),
        ("last_name", "last_name"),
        ("Katuosoite", "street_address"),
        ("Gatuadress", "street_address"),
        ("Street address", "street_address"),
        ("Osoite", "street_address"),
        ("Postitoimipaikka", "city"),
        ("Kaupunki", "city"),
        ("Postort", "city"),
        ("City", "city"),
        ("Puhelin", "mobile"),
        ("Matkapuhelin", "mobile"),
        ("GSM", "mobile"),
        ("Mobil", "mobile"),
        ("Mobile", "mobile"),
        ("Kieli", "language"),
        ("Språk", "language"),
        ("Language", "language"),
        ("Ammatti", "occupation"),
        ("Yrke", "occupation"),
        ("Occupation", "occupation"),
        ("Koulutus", "education"),
        ("Utbildning", "education"),
        ("Lisätiedot", "extra_info"),
        ("Tilläggsuppgifter", "extra_info"),
        ("Notes", "extra_info"),
        ("Syntymäaika", "date_of_birth"),
        ("Födelsedatum", "date_of_birth"),
        ("Date of birth", "date_of_birth"),
        ("Maa", "country"),
        ("Land", "country"),
        ("Country", "country"),
        ("Fax", "fax"),
        ("Faksi", "fax"),
        ("Lankapuhelin", "landline"),
        ("Fast telefon", "landline"),
        ("Landline", "landline"),
        ("Markkinointikielto", "marketing_objection"),
        ("Direktmarknadsföringsförbud", "marketing_objection"),
        ("Asiakastyyppi", "kind"),
        ("  Asiakkaan sähköposti: ", "email"),
    ],
)
def test_it_suggests_the_field_a_header_names(register, header, field):
    assert suggest([header], register) == {header: field}


def test_unknown_headers_and_empty_ones_map_to_nothing(register):
    assert suggest(["Kengännumero", "", "Toimiala", "?"], register) == {}


def test_each_field_is_suggested_once_the_first_column_winning(register):
    assert suggest(["Sähköposti", "E-mail", "Nimi", "Yrityksen nimi"], register) == {
        "Sähköposti": "email",
        "Nimi": "organisation_name",
    }


def test_a_general_phone_header_takes_the_phone_field_a_specific_one_leaves(register):
    assert suggest(["Puhelin", "Matkapuhelin"], register) == {"Puhelin": "landline", "Matkapuhelin": "mobile"}


def test_a_general_phone_header_takes_the_landline_when_mobiles_are_not_collected():
    register = RegisterFactory.build(collected_fields=[CustomerField.LANDLINE])

    assert suggest(["Puhelin"], register) == {"Puhelin": "landline"}


def test_a_field_the_register_does_not_collect_is_never_suggested():
    register = RegisterFactory.build(collected_fields=[CustomerField.EMAIL])

    suggested = suggest(["Nimi", "Y-tunnus", "Sähköposti", "Postinumero", "Syntymäaika"], register)

    assert suggested == {"Nimi": "organisation_name", "Sähköposti": "email"}


def test_a_customer_file_offers_only_the_fields_the_register_collects():
    register = RegisterFactory.build(collected_fields=[CustomerField.ADDRESS, CustomerField.EMAIL])

    fields = [name for name, _label in importable_fields(register=register, kind=KIND_CUSTOMERS)]

    assert fields == [
        "kind",
        "organisation_name",
        "first_name",
        "last_name",
        "street_address",
        "postal_code",
        "city",
        "country",
        "email",
        "marketing_objection",
    ]


def test_the_labels_are_translated(register):
    with translation.override("fi"):
        labels = {name: str(label) for name, label in importable_fields(register=register, kind=KIND_CUSTOMERS)}

    assert labels["last_name"] == "sukunimi"


def test_contact_persons_and_interactions_are_linked_to_a_customer(register):
    contact = [name for name, _label in importable_fields(register=register, kind=KIND_CONTACT_PERSONS)]
    interaction = [name for name, _label in importable_fields(register=register, kind=KIND_INTERACTIONS)]

    assert contact == [
        "business_id",
        "first_name",
        "last_name",
        "title",
        "responsibility",
        "email",
        "phone",
        "interests",
    ]
    assert interaction == ["business_id", "email", "occurred_at", "kind", "subject", "text"]


def test_it_suggests_contact_person_columns(register):
    headers = ["Y-tunnus", "Etunimi", "Sukunimi", "Titteli", "Vastuualue", "Sähköposti", "Puhelin", "Intressen"]

    assert suggest(headers, register, KIND_CONTACT_PERSONS) == {
        "Y-tunnus": "business_id",
        "Etunimi": "first_name",
        "Sukunimi": "last_name",
        "Titteli": "title",
        "Vastuualue": "responsibility",
        "Sähköposti": "email",
        "Puhelin": "phone",
        "Intressen": "interests",
    }


def test_it_suggests_interaction_columns(register):
    headers = ["E-post", "Datum", "Typ", "Ämne", "Beskrivning", "Nimi"]

    assert suggest(headers, register, KIND_INTERACTIONS) == {
        "E-post": "email",
        "Datum": "occurred_at",
        "Typ": "kind",
        "Ämne": "subject",
        "Beskrivning": "text",
    }


def test_a_good_mapping_has_no_errors(register):
    assert (
        mapping_errors({0: "organisation_name", 1: "business_id", 3: ""}, register=register, kind=KIND_CUSTOMERS) == []
    )


def test_a_field_chosen_twice_is_an_error(register):
    errors = mapping_errors({0: "email", 1: "email", 2: "last_name"}, register=register, kind=KIND_CUSTOMERS)

    assert errors == ["E-mail is chosen for more than one column."]


def test_a_field_the_register_does_not_collect_is_refused():
    register = RegisterFactory.build(collected_fields=[CustomerField.EMAIL])

    with translation.override("fi"):
        errors = mapping_errors({0: "last_name", 1: "date_of_birth"}, register=register, kind=KIND_CUSTOMERS)
        expected = ERROR_NOT_COLLECTED % {"field": "syntymäaika"}

    assert errors == [expected]


def test_an_unknown_field_is_refused(register):
    errors = mapping_errors({0: "last_name", 1: "password"}, register=register, kind=KIND_CUSTOMERS)

    assert errors == ["The field password cannot be imported."]


def test_a_customer_file_needs_a_name_column(register):
    assert mapping_errors({0: "email"}, register=register, kind=KIND_CUSTOMERS) == [ERROR_NAME_MISSING]


def test_a_contact_person_file_needs_the_organisation_and_the_last_name(register):
    errors = mapping_errors({0: "first_name"}, register=register, kind=KIND_CONTACT_PERSONS)

    assert errors == [
        "Choose a column for business ID of the organisation.",
        "Choose a column for last name.",
    ]


def test_an_interaction_file_needs_the_customer_and_a_subject(register):
    assert mapping_errors({0: "text"}, register=register, kind=KIND_INTERACTIONS) == [
        ERROR_LINK_MISSING,
        "Choose a column for subject.",
    ]
    assert mapping_errors({0: "email", 1: "subject"}, register=register, kind=KIND_INTERACTIONS) == []


def test_a_customer_only_field_is_unknown_to_contact_persons(register):
    errors = mapping_errors(
        {0: "business_id", 1: "last_name", 2: "mobile"}, register=register, kind=KIND_CONTACT_PERSONS
    )

    assert errors == ["The field mobile cannot be imported."]
