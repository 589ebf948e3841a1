"""GET: the person's data in every register, as the profile's Node tree of strings, from the access answer's
collector; 204 when no record carries the profile id; every read is in the access log."""

import datetime
import uuid

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from crm import services as crm_services
from crm.models import Interaction

from ...factories import (
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from .conftest import bearer, url

pytestmark = pytest.mark.django_db

PROFILE = uuid.UUID("5a2ef9b4-2f9e-4c41-8f9f-4c4b2b2f6a11")


def walk(node, path=()):
    """Yield (path, node) for every node of the tree."""
    yield (*path, node["key"]), node
    for child in node.get("children", []):
        yield from walk(child, (*path, node["key"]))


def leaves(tree) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, node in walk(tree):
        if "value" in node:
            found.setdefault("/".join(path), []).append(node["value"])
    return found


@pytest.fixture
def person():
    """The same person in two registers of one city, with their history; and people who are not them."""
    first, second = RegisterFactory(), RegisterFactory()
    anna = PersonCustomerFactory(
        register=first,
        profile_id=PROFILE,
        first_name="Anna",
        last_name="Asiakas",
        email="anna.asiakas@example.fi",
        date_of_birth=datetime.date(1980, 5, 17),
        marketing_objection=True,
    )
    InteractionFactory(customer=anna, subject="Neuvonta yrityksen perustamisesta", kind=Interaction.Kind.MEETING)
    InvoiceFactory(customer=anna, number="INV-ANNA", status="paid")
    again = PersonCustomerFactory(register=second, profile_id=PROFILE, first_name="Anna", last_name="Asiakas")
    InteractionFactory(customer=again, subject="Toinen rekisteri")
    PersonCustomerFactory(register=first, first_name="Bertta", last_name="Muukalainen", email="bertta@example.fi")
    return {"registers": (first, second), "customers": (anna, again)}


def test_the_tree_holds_every_register_of_the_person_and_only_strings(issuer, person):
    response = bearer(issuer.token(scopes=["gdprquery"])).get(url(PROFILE))

    assert response.status_code == 200
    tree = response.json()
    assert tree["key"] == "REKISTERI"
    for _path, node in walk(tree):
        assert set(node) in ({"key", "value"}, {"key", "children"}), node
        assert node["key"] == node["key"].upper()
        assert " " not in node["key"]
        if "value" in node:
            assert isinstance(node["value"], str), node
        else:
            assert isinstance(node["children"], list)
    assert [child["key"] for child in tree["children"]] == ["REGISTER", "REGISTER"]
    values = leaves(tree)
    customer = "REKISTERI/REGISTER/CUSTOMERS/CUSTOMER"
    assert "anna.asiakas@example.fi" in values[f"{customer}/EMAIL"]
    assert values[f"{customer}/DATE_OF_BIRTH"] == ["1980-05-17", "1980-05-17"]
    assert sorted(values[f"{customer}/MARKETING_OBJECTION"]) == ["false", "true"]
    assert sorted(values[f"{customer}/INTERACTIONS/INTERACTION/SUBJECT"]) == [
        "Neuvonta yrityksen perustamisesta",
        "Toinen rekisteri",
    ]
    assert values[f"{customer}/INVOICES/INVOICE/NUMBER"] == ["INV-ANNA"]
    # A time is ISO 8601 with its offset, not the letter's "30.11.2026 klo 9.00".
    occurred = values[f"{customer}/INTERACTIONS/INTERACTION/DATE"]
    assert len(occurred) == 2
    assert all(datetime.datetime.fromisoformat(value).tzinfo for value in occurred)
    assert "Bertta" not in response.content.decode()
    assert "bertta@example.fi" not in response.content.decode()


def test_the_tree_and_the_access_answer_show_the_same_fields(issuer, person):
    from privacy.requests.access_package import CUSTOMER_FIELDS, Collector

    anna = person["customers"][0]
    record = Collector(matched_people=set()).customer(anna)

    tree = bearer(issuer.token()).get(url(PROFILE)).json()

    register = next(r for r in tree["children"] if any(n["value"] == anna.register.name for n in r["children"][:1]))
    customer = register["children"][2]["children"][0]
    keys = {child["key"] for child in customer["children"] if "value" in child}
    assert keys == {field["name"].upper() for field in record["fields"]}
    assert keys <= {name.upper() for name in CUSTOMER_FIELDS} | {"TAGS"}


def test_an_organisations_other_contact_persons_are_withheld(issuer):
    organisation = CustomerFactory(register=RegisterFactory(), profile_id=PROFILE, organisation_name="Toiminimi Anna")
    ContactPersonFactory(customer=organisation, first_name="Kalle", last_name="Kolmas", email="kalle@example.fi")

    response = bearer(issuer.token()).get(url(PROFILE))

    assert response.status_code == 200
    assert "Kalle" not in response.content.decode()
    assert leaves(response.json())["REKISTERI/REGISTER/CUSTOMERS/CUSTOMER/WITHHELD_CONTACT_PERSONS"] == ["1"]


def test_an_unknown_profile_is_204_and_logs_nothing(issuer, person):
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()

    response = bearer(issuer.token()).get(url(uuid.uuid4()))

    assert response.status_code == 204
    assert response.content == b""
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before


@pytest.mark.parametrize("suffix", ["", "/"])
def test_the_url_works_with_and_without_the_slash(issuer, person, suffix):
    response = bearer(issuer.token()).get(url(PROFILE) + suffix)

    assert response.status_code == 200


def test_a_malformed_profile_id_is_404_not_500(issuer):
    assert bearer(issuer.token()).get("/gdpr-api/v1/profiles/not-a-uuid").status_code == 404


def test_every_read_record_is_in_the_access_log_with_its_register_and_purpose(issuer, person):
    bearer(issuer.token(sub="7d0c3a42-0e55-4d8e-9d0f-1b4f2c2d9e01")).get(url(PROFILE))

    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__purpose="gdpr_api")
    logged = {(int(e.object_pk), e.additional_data["register"]) for e in entries}
    assert logged == {(c.pk, c.register_id) for c in person["customers"]}
    for entry in entries:
        assert entry.additional_data["profile_id"] == str(PROFILE)
        assert entry.additional_data["token_subject"] == "7d0c3a42-0e55-4d8e-9d0f-1b4f2c2d9e01"
        assert entry.actor is None


def test_the_person_sees_the_read_in_their_own_access_answer(issuer, person):
    """The processing dates of an access answer come from the access log: the API's read counts."""
    from privacy.requests.access_package import processing_dates
    from privacy.requests.models import SubjectMatch

    bearer(issuer.token()).get(url(PROFILE))

    anna = person["customers"][0]
    match = SubjectMatch(customer=anna, register=anna.register)
    assert processing_dates([match]) == [timezone.localdate().isoformat()]


def test_a_change_made_after_a_read_shows_in_the_next_read(issuer, person):
    anna = person["customers"][0]
    staff = UserFactory()
    crm_services.customer_update(actor=staff, customer=anna, data={"city": "Pyhäjärvi"}, version=anna.version)

    values = [v for found in leaves(bearer(issuer.token()).get(url(PROFILE)).json()).values() for v in found]

    assert "Pyhäjärvi" in values


def test_the_recipients_and_the_days_of_processing_are_in_the_tree_as_in_an_access_answer(issuer, person):
    from privacy.rights import disclosures
    from privacy.rights.models import Disclosure

    anna = person["customers"][0]
    data = {
        "recipient": "Kaupungin lakipalvelut",
        "recipient_kind": Disclosure.RecipientKind.LEGAL_SERVICES,
        "data_description": "nimi ja osoite",
        "legal_basis": "621/1999 16(3) §",
    }
    disclosures.disclosure_record(actor=UserFactory(), register=anna.register, customer=anna, data=data)
    client = bearer(issuer.token())
    client.get(url(PROFILE))  # a read today: a day of processing from now on

    values = leaves(client.get(url(PROFILE)).json())

    assert values["REKISTERI/REGISTER/DISCLOSURES/DISCLOSURE/RECIPIENT"] == ["Kaupungin lakipalvelut"]
    assert values["REKISTERI/REGISTER/DISCLOSURES/DISCLOSURE/LEGAL_BASIS"] == ["621/1999 16(3) §"]
    assert values["REKISTERI/REGISTER/PROCESSING_DATES/DATE"] == [timezone.localdate().isoformat()] * 2


def test_the_tree_holds_the_consents_and_objections_with_the_text_shown(issuer, person):
    from privacy.rights import consent
    from privacy.rights.models import ConsentRecord

    from ...factories import ConsentNoticeFactory

    anna = person["customers"][0]
    notice = ConsentNoticeFactory(register=anna.register, version="2026-3", text_fi="Suostun uutiskirjeeseen.")
    record = consent.consent_give(
        actor=UserFactory(),
        customer=anna,
        purpose=ConsentRecord.Purpose.NEWSLETTER,
        channel=ConsentRecord.Channel.PHONE,
        notice=notice,
        language="fi",
    )
    consent.consent_withdraw(consent=record, channel=ConsentRecord.Channel.MY_DATA)

    values = leaves(bearer(issuer.token()).get(url(PROFILE)).json())

    row = "REKISTERI/REGISTER/CUSTOMERS/CUSTOMER/CONSENTS/CONSENT"
    assert values[f"{row}/NOTICE_VERSION"] == ["2026-3"]
    assert values[f"{row}/NOTICE_TEXT"] == ["Suostun uutiskirjeeseen."]
    assert values[f"{row}/NOTICE_LANGUAGE"] == ["suomi"]
    assert datetime.datetime.fromisoformat(values[f"{row}/GIVEN"][0]).tzinfo
    assert datetime.datetime.fromisoformat(values[f"{row}/WITHDRAWN"][0]) >= record.given_at
    assert len(values[f"{row}/GIVEN_THROUGH"]) == 1
    assert len(values[f"{row}/WITHDRAWN_BY"]) == 1
