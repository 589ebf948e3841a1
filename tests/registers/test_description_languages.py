"""Organisation names and description texts in Finnish, Swedish and English, with a note where one is missing."""

import pytest
from django.utils import translation

from registers.description import ONLY_IN, description_sections, description_snapshot
from registers.models import RegisterDescriptionVersion

from ..factories import OrganisationFactory, RegisterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def helsinki(db):
    organisation = OrganisationFactory(
        name_fi="Helsingin kaupungin elinkeinopalvelu",
        name_sv="Helsingfors stads näringslivsservice",
        name_en="",
        address="PL 10, 00099 Helsingin kaupunki",
        registry_email="helsinki.kirjaamo@hel.fi",
    )
    return RegisterFactory(
        slug="hki",
        organisation=organisation,
        # The factory sets the Finnish texts through the old single-text names, so these do too.
        purposes="Asiakassuhteiden hoito.",
        purposes_sv="Hantering av kundrelationerna.",
        data_categories="Nimi ja yhteystiedot.",
        dpo_contact_fi="Tietosuojavastaava, tietosuoja@hel.fi",
    )


def page(client, register, language):
    response = client.get(f"/registers/{register.slug}/description/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def note(code: str, reader: str) -> str:
    with translation.override(reader):
        return str(ONLY_IN[code])


def test_a_finnish_page_shows_the_finnish_organisation_name(client, helsinki):
    finnish = page(client, helsinki, "fi")
    assert "Helsingin kaupungin elinkeinopalvelu" in finnish
    assert "Helsingfors stads näringslivsservice" not in finnish
    swedish = page(client, helsinki, "sv")
    assert "Helsingfors stads näringslivsservice" in swedish
    assert "Helsingin kaupungin elinkeinopalvelu" not in swedish


def test_a_name_missing_in_english_shows_the_finnish_one_with_a_note(client, helsinki):
    english = page(client, helsinki, "en")
    controller = english.split('id="controller"')[1].split("</section>")[0]
    assert "Helsingin kaupungin elinkeinopalvelu" in controller
    assert "Only available in Finnish" in controller


def test_organisation_name_follows_the_active_language(helsinki):
    organisation = helsinki.organisation
    with translation.override("sv"):
        assert organisation.name == "Helsingfors stads näringslivsservice"
        assert str(organisation) == "Helsingfors stads näringslivsservice"
    with translation.override("fi"):
        assert organisation.name == "Helsingin kaupungin elinkeinopalvelu"
    with translation.override("en"):
        assert organisation.name == "Helsingin kaupungin elinkeinopalvelu"


def test_a_swedish_reader_sees_the_swedish_section_text(client, helsinki):
    swedish = page(client, helsinki, "sv")
    purposes = swedish.split('id="purposes"')[1].split("</section>")[0]
    assert "Hantering av kundrelationerna." in purposes
    assert "Asiakassuhteiden hoito." not in purposes
    assert note("fi", "sv") not in purposes


def test_a_swedish_reader_sees_the_finnish_text_with_a_note_when_there_is_no_swedish(client, helsinki):
    swedish = page(client, helsinki, "sv")
    categories = swedish.split('id="data_categories"')[1].split("</section>")[0]
    assert "Nimi ja yhteystiedot." in categories
    assert note("fi", "sv") in categories
    assert '<p lang="fi">Nimi ja yhteystiedot.</p>' in categories


def test_an_english_reader_of_a_swedish_only_text_is_told_so(helsinki):
    helsinki.purposes_fi = ""
    with translation.override("en"):
        sections = {s.key: s for s in description_sections(description_snapshot(helsinki), "en")}
    assert sections["purposes"].paragraphs == ["Hantering av kundrelationerna."]
    assert sections["purposes"].note == "Only available in Swedish"
    assert sections["purposes"].lang == "sv"


def test_writing_the_old_single_text_sets_the_finnish_one(helsinki):
    helsinki.retention_text = "Kolme vuotta."
    assert helsinki.retention_text_fi == "Kolme vuotta."
    with translation.override("sv"):
        assert helsinki.retention_text == "Kolme vuotta."


def test_a_version_published_before_the_texts_became_trilingual_still_reads_as_written(client, helsinki):
    content = description_snapshot(helsinki)
    for language in ("fi", "sv", "en"):
        del content[f"purposes_{language}"]
    content["purposes"] = "Kundrelationer (gammal version)."
    content["organisation"] = {"name": "Helsingfors stads näringslivsservice", "address": "PB 10"}
    RegisterDescriptionVersion.objects.create(register=helsinki, number=1, content=content)
    finnish = page(client, helsinki, "fi")
    purposes = finnish.split('id="purposes"')[1].split("</section>")[0]
    assert "Kundrelationer (gammal version)." in purposes
    assert note("fi", "fi") not in purposes
    assert note("sv", "fi") not in purposes
    assert "Helsingfors stads näringslivsservice" in finnish
