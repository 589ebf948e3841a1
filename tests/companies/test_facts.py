"""Parsing one PRH v3 company into CompanyFacts: names, addresses, codes and the derived status."""

import datetime

import pytest
from django.utils import translation

from companies.facts import Address, CompanyFacts, CompanyStatus

from .conftest import recorded_company
from .factories import CompanyJsonFactory


@pytest.fixture
def dynava() -> CompanyFacts:
    return CompanyFacts.from_json(recorded_company("company_active.json"))


def test_it_reads_the_current_main_name_not_the_previous_one(dynava):
    assert dynava.business_id == "0100130-4"
    assert dynava.name == "Dynava Oy"
    assert str(dynava) == "Dynava Oy (0100130-4)"


def test_it_lists_only_current_parallel_and_auxiliary_names(dynava):
    assert dynava.parallel_names == ("Dynava Ab",)
    assert dynava.auxiliary_names == ("EDS Media",)  # "Eniro Media" ended in 2009


def test_it_writes_the_visiting_address_the_finnish_way_with_the_finnish_city(dynava):
    assert dynava.visiting_address == Address(street="Valimotie 17-19 B 12a", post_code="00380", city="HELSINKI")
    assert str(dynava.visiting_address) == "Valimotie 17-19 B 12a, 00380 HELSINKI"
    assert dynava.address == dynava.visiting_address


def test_it_writes_a_post_office_box_as_the_postal_address(dynava):
    assert str(dynava.postal_address) == "PL 123, 00381 HELSINKI"


def test_it_takes_the_swedish_post_office_name_when_there_is_no_finnish_one():
    facts = CompanyFacts.from_json(recorded_company("company_restructuring.json"))
    assert str(facts.visiting_address) == "Storgatan 10, 68600 JAKOBSTAD"
    assert facts.postal_address == Address()
    assert facts.address == facts.visiting_address


def test_it_reads_the_numeric_company_form_with_its_descriptions(dynava):
    assert dynava.company_form.code == "16"
    assert dynava.company_form.description("fi") == "Osakeyhtiö"
    assert dynava.company_form.description("sv") == "Aktiebolag"
    assert dynava.company_form.description("en") == "Limited company"


def test_it_reads_the_business_line_with_its_code_set(dynava):
    line = dynava.business_line
    assert (line.code, line.code_set) == ("82200", "TOIMI4")
    assert line.description("fi") == "Puhelinpalvelukeskusten toiminta"
    assert line.description("en") == "Activities of call centres"


def test_descriptions_follow_the_active_language_by_default(dynava):
    with translation.override("sv"):
        assert dynava.business_line.description() == "Kundtjänstcentralers verksamhet"
    with translation.override("en"):
        assert dynava.company_form.description() == "Limited company"


def test_a_missing_language_falls_back_to_finnish_then_swedish():
    facts = CompanyFacts.from_json(recorded_company("company_restructuring.json"))
    assert facts.company_form.description("fi") == "Aktiebolag"
    assert facts.business_line.description("en") == "Slakterier"
    only_english = CompanyFacts.from_json(CompanyJsonFactory(mainBusinessLine={"type": "1", "descriptions": []}))
    assert only_english.business_line.description("fi") == ""


def test_it_reads_website_and_dates(dynava):
    assert dynava.website == "www.dynava.fi"
    assert dynava.registration_date == datetime.date(1973, 8, 10)
    assert dynava.end_date is None
    assert dynava.last_modified == "2026-01-02T03:04:05"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("company_active.json", CompanyStatus.ACTIVE),
        ("company_liquidation.json", CompanyStatus.LIQUIDATION),
        ("company_bankruptcy.json", CompanyStatus.BANKRUPTCY),
        ("company_restructuring.json", CompanyStatus.RESTRUCTURING),
        ("company_ceased.json", CompanyStatus.CEASED),
    ],
)
def test_it_derives_the_status_from_situations_and_end_dates(name, status):
    data = recorded_company(name)
    assert data["status"] == "2", "the recorded answers all carry PRH's meaningless top-level status"
    assert CompanyFacts.from_json(data).status == status


def test_an_ended_situation_no_longer_counts():
    situations = [{"type": "KONK", "registrationDate": "2019-01-01", "endDate": "2020-01-01", "source": "1"}]
    assert CompanyFacts.from_json(CompanyJsonFactory(companySituations=situations)).status == CompanyStatus.ACTIVE


def test_bankruptcy_outweighs_liquidation():
    situations = [{"type": "SELTILA", "source": "1"}, {"type": "KONK", "source": "1"}]
    assert CompanyFacts.from_json(CompanyJsonFactory(companySituations=situations)).status == CompanyStatus.BANKRUPTCY


@pytest.mark.parametrize("trade_register_status", ["2", "4"])
def test_a_company_removed_or_ceased_in_the_trade_register_is_ceased(trade_register_status):
    data = CompanyJsonFactory(tradeRegisterStatus=trade_register_status, companySituations=[{"type": "SELTILA"}])
    assert CompanyFacts.from_json(data).status == CompanyStatus.CEASED


def test_a_company_struck_from_every_register_is_ceased():
    entries = [{"type": "1", "register": "1", "authority": "2", "endDate": "2024-01-01"}]
    assert CompanyFacts.from_json(CompanyJsonFactory(registeredEntries=entries)).status == CompanyStatus.CEASED


def test_a_ceased_company_keeps_its_last_name_and_end_date():
    facts = CompanyFacts.from_json(recorded_company("company_ceased.json"))
    assert facts.name == "Artjarven Metalli Oy"
    assert facts.end_date == datetime.date(1996, 12, 31)
    assert facts.company_form.description("fi") == "Osakeyhtiö"
    assert facts.address == Address()
    assert str(facts.address) == ""


def test_status_labels_are_translatable_words():
    assert [str(label) for label in CompanyStatus.labels] == [
        "Active",
        "In liquidation",
        "In bankruptcy",
        "In restructuring",
        "Ceased",
    ]


def test_a_foreign_address_comes_from_the_free_address_line():
    addresses = [{"type": 2, "freeAddressLine": "Storgatan_1 111_22_Stockholm", "country": "SE", "source": "0"}]
    facts = CompanyFacts.from_json(CompanyJsonFactory(addresses=addresses))
    assert facts.postal_address == Address(street="Storgatan 1 111 22 Stockholm", country="SE")
    assert facts.visiting_address == Address()


def test_missing_optional_parts_give_empty_values():
    facts = CompanyFacts.from_json({"businessId": {"value": "0100130-4"}})
    assert facts == CompanyFacts(business_id="0100130-4")
    assert facts.status == CompanyStatus.ACTIVE
    assert facts.company_form.description() == ""


def test_malformed_optional_parts_are_ignored():
    data = {
        "businessId": {"value": "0100130-4"},
        "names": "Dynava Oy",
        "addresses": [None, 7, {"type": 1, "postOffices": "HELSINKI", "street": {"x": 1}}],
        "companyForms": {"type": "16"},
        "mainBusinessLine": [],
        "website": "www.example.fi",
        "registrationDate": "31.12.1999",
        "companySituations": None,
        "tradeRegisterStatus": None,
    }
    facts = CompanyFacts.from_json(data)
    assert facts.name == ""
    assert facts.registration_date is None
    assert facts.website == ""
    assert facts.status == CompanyStatus.ACTIVE


@pytest.mark.parametrize("data", [None, [], "0100130-4", {}, {"businessId": {"value": ""}}, {"businessId": "x"}])
def test_a_record_without_a_business_id_is_refused(data):
    with pytest.raises(ValueError, match=r"business ID|JSON object"):
        CompanyFacts.from_json(data)
