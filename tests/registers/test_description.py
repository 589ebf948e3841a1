import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from registers.description import (
    ERROR_NOTHING_CHANGED,
    description_content_on,
    description_publish,
    description_sections,
    description_snapshot,
)
from registers.models import Register, RegisterDescriptionVersion

from ..factories import ContactCentreRegisterFactory, OrganisationFactory, RegisterFactory

pytestmark = pytest.mark.django_db

HEADINGS_EN = [
    "Name of the register",
    "Controller",
    "Persons in charge and contact details",
    "Processors and outsourced services",
    "Purposes of processing",
    "Legal basis of processing",
    "Automated decision-making and profiling",
    "Categories of personal data",
    "Regular sources of data",
    "Regular disclosures and recipients",
    "Disclosures under the Act on the Openness of Government Activities (621/1999)",
    "Transfers outside the EU/EEA",
    "Retention periods",
    "Principles of protecting the register",
    "Rights of the data subject and how to use them",
    "Right to lodge a complaint",
]


@pytest.fixture
def described(db):
    organisation = OrganisationFactory(name_fi="Kemin kaupunki", address="Valtakatu 26, 94100 Kemi")
    return RegisterFactory(
        slug="kemi-crm",
        organisation=organisation,
        name_fi="Asiakkuudenhallintarekisteri",
        name_sv="Kundregister",
        name_en="Customer relationship register",
        owner="Elinvoimajohtaja Maija Meikäläinen, p. 040 123 4567",
        dpo_contact="tietosuojavastaava@kemi.fi",
        purposes="Yritysasiakkaiden palvelu",
        data_categories="Yrityksen nimi ja yhteyshenkilöt",
        recipients="Ei säännönmukaisia luovutuksia.",
        legal_bases=["a", "e"],
        retention_months=24,
        description_created_on=datetime.date(2024, 3, 16),
        description_updated_on=datetime.date(2025, 1, 2),
    )


def get_page(client, url, language):
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language)


def test_anyone_reads_the_description_without_signing_in(client, described):
    response = get_page(client, "/registers/kemi-crm/description/", "en")
    assert response.status_code == 200
    page = response.content.decode()
    for number, heading in enumerate(HEADINGS_EN, start=1):
        assert f"{number}. {heading}" in page
    assert "Customer relationship register" in page
    assert "Kemin kaupunki" in page
    assert "Valtakatu 26, 94100 Kemi" in page
    assert "tietosuojavastaava@kemi.fi" in page
    assert "16 March 2024" in page or "March 16, 2024" in page
    assert "Jan. 2, 2025" in page
    assert "6(1)(a) consent" in page
    assert "no activity for 24 months is deleted automatically" in page
    assert "Data Protection Ombudsman" in page


def test_the_description_reads_in_finnish_and_swedish(client, described):
    finnish = get_page(client, "/registers/kemi-crm/description/", "fi").content.decode()
    assert "Asiakkuudenhallintarekisteri" in finnish
    assert "1. Rekisterin nimi" in finnish
    assert "16. Oikeus tehdä valitus" in finnish
    assert "Laadittu" in finnish
    assert "Päivitetty" in finnish
    assert "Henkilötietoja ei siirretä EU:n tai ETA:n ulkopuolelle." in finnish
    swedish = get_page(client, "/registers/kemi-crm/description/", "sv").content.decode()
    assert "Kundregister" in swedish
    assert "1. Registrets namn" in swedish
    assert "16. Rätt att lämna in klagomål" in swedish
    assert "Upprättad" in swedish


def test_an_unknown_register_is_404(client, described):
    assert client.get("/registers/no-such-register/description/").status_code == 404


def test_the_pdf_is_served_without_signing_in(client, described):
    response = get_page(client, "/registers/kemi-crm/description.pdf", "fi")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="kemi-crm-fi.pdf"' in response["Content-Disposition"]


def test_a_contact_centre_description_states_the_archive_rules(client, settings):
    settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS = 60
    register = ContactCentreRegisterFactory(slug="contact-centre")
    page = get_page(client, f"/registers/{register.slug}/description/", "en").content.decode()
    assert "Call recordings are destroyed 6 months after the call." in page
    assert "deleted 60 days after the client relationship has ended" in page
    assert "Personal data is not transferred outside the EU/EEA." in page


def test_a_register_without_retention_period_says_data_is_kept_until_erasure(described):
    described.retention_months = None
    with translation.override("en"):  # the items are gettext's: the active language, whatever the test before
        sections = {s.key: s for s in description_sections(description_snapshot(described), "en")}
    assert any("kept until its erasure is requested" in item for item in sections["retention"].items)


def test_a_register_that_allows_direct_marketing_says_so_under_its_purposes(described):
    with translation.override("en"):
        described.direct_marketing = False
        silent = {s.key: s for s in description_sections(description_snapshot(described), "en")}
        described.direct_marketing = True
        stated = {s.key: s for s in description_sections(description_snapshot(described), "en")}
    assert not any("Direct marketing" in item for item in silent["purposes"].items)
    assert any("Direct marketing" in item for item in stated["purposes"].items)


def test_publishing_keeps_each_version_with_who_when_and_what_changed(described, owner_a):
    first = description_publish(actor=owner_a, register=described, note="First publication")
    described.refresh_from_db()
    described.purposes = "Yritysasiakkaiden palvelu ja tapahtumat"
    described.save()
    second = description_publish(actor=owner_a, register=described, note="Events added")
    assert [v.number for v in RegisterDescriptionVersion.objects.filter(register=described)] == [2, 1]
    assert second.published_by == owner_a
    assert second.changed_fields == ["purposes_fi"]
    assert second.change_note == "Events added"
    assert first.content["purposes_fi"] == "Yritysasiakkaiden palvelu"
    assert second.content["purposes_fi"] == "Yritysasiakkaiden palvelu ja tapahtumat"


def test_publishing_an_unchanged_description_is_refused(described, owner_a):
    description_publish(actor=owner_a, register=described)
    with pytest.raises(ValidationError) as error:
        description_publish(actor=owner_a, register=described)
    assert error.value.messages == [str(ERROR_NOTHING_CHANGED)]


def test_the_notice_in_force_on_a_past_date_is_shown(client, described, owner_a):
    first = description_publish(actor=owner_a, register=described)
    described.refresh_from_db()
    described.purposes = "Uusi käyttötarkoitus"
    described.save()
    description_publish(actor=owner_a, register=described)
    # Move the first publication back in time, as if published a year ago.
    year_ago = timezone.now() - datetime.timedelta(days=365)
    RegisterDescriptionVersion.objects.filter(pk=first.pk).update(published_at=year_ago)
    on = (year_ago + datetime.timedelta(days=10)).date().isoformat()

    old = get_page(client, f"/registers/kemi-crm/description/?on={on}", "en").content.decode()
    assert "Yritysasiakkaiden palvelu" in old
    assert "Uusi käyttötarkoitus" not in old
    assert "Version 1, published" in old
    today = get_page(client, "/registers/kemi-crm/description/", "en").content.decode()
    assert "Uusi käyttötarkoitus" in today
    assert "Version 2, published" in today
    before = (year_ago - datetime.timedelta(days=1)).date().isoformat()
    assert client.get(f"/registers/kemi-crm/description/?on={before}").status_code == 404
    assert client.get("/registers/kemi-crm/description/?on=not-a-date").status_code == 404


def test_publishing_does_not_change_what_an_old_version_says(described, owner_a):
    description_publish(actor=owner_a, register=described)
    described.organisation.address = "Uusi osoite 1, 94100 Kemi"
    described.organisation.save()
    content, version = description_content_on(described)
    assert version.number == 1
    assert content["organisation"]["address"] == "Valtakatu 26, 94100 Kemi"


def test_an_unpublished_register_shows_its_current_data(client, described):
    page = get_page(client, "/registers/kemi-crm/description/", "en").content.decode()
    assert "no version has been published yet" in page


# Owner preview and publication.


@pytest.fixture
def publishable_a(register_a):
    """Register A with the data protection officer its public-authority controller must name."""
    register_a.dpo_contact = "tietosuojavastaava@example.fi"
    register_a.save()
    return register_a


def test_the_owner_previews_and_publishes(client, publishable_a, register_a, owner_a):
    client.force_login(owner_a)
    preview = client.get(f"/registers/{register_a.slug}/description/preview/", HTTP_ACCEPT_LANGUAGE="en")
    assert preview.status_code == 200
    assert "Preview: not yet public" in preview.content.decode()
    response = client.post(f"/registers/{register_a.slug}/description/publish/", {"note": "Yearly check"})
    assert response.status_code == 302
    assert response["Location"] == f"/registers/{register_a.slug}/description/"
    version = RegisterDescriptionVersion.objects.get(register=register_a)
    assert version.change_note == "Yearly check"
    assert version.published_by == owner_a


def test_a_main_user_may_publish(client, publishable_a, register_a, main_user):
    client.force_login(main_user)
    client.post(f"/registers/{register_a.slug}/description/publish/")
    assert RegisterDescriptionVersion.objects.filter(register=register_a, published_by=main_user).exists()


def test_staff_of_another_register_gets_404_on_the_preview(client, register_a, staff_b):
    client.force_login(staff_b)
    assert client.get(f"/registers/{register_a.slug}/description/preview/").status_code == 404
    assert client.post(f"/registers/{register_a.slug}/description/publish/").status_code == 404


def test_read_only_user_gets_403_on_publish(client, register_a, readonly_a):
    client.force_login(readonly_a)
    assert client.post(f"/registers/{register_a.slug}/description/publish/").status_code == 403
    assert not RegisterDescriptionVersion.objects.exists()


def test_staff_cannot_publish(client, register_a, staff_a):
    client.force_login(staff_a)
    assert client.get(f"/registers/{register_a.slug}/description/preview/").status_code == 403
    assert client.post(f"/registers/{register_a.slug}/description/publish/").status_code == 403


def test_anonymous_preview_goes_to_login(client, register_a):
    response = client.get(f"/registers/{register_a.slug}/description/preview/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_publish_is_post_only(client, register_a, owner_a):
    client.force_login(owner_a)
    assert client.get(f"/registers/{register_a.slug}/description/publish/").status_code == 405


def test_the_admin_action_publishes_for_a_main_user(client, publishable_a, register_a, main_user):
    client.force_login(main_user)
    response = client.post(
        "/admin/registers/register/",
        {"action": "publish_description", "_selected_action": [register_a.pk]},
    )
    assert response.status_code == 302
    assert RegisterDescriptionVersion.objects.filter(register=register_a).count() == 1


# Record of processing activities (GDPR art. 30).


def test_the_owner_exports_the_record_of_their_registers(client, register_a, register_b, owner_a):
    client.force_login(owner_a)
    response = client.get("/registers/records-of-processing.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="records-of-processing-')
    data = json.loads(response.content)
    activities = data["processing_activities"]
    assert [a["register"]["slug"] for a in activities] == [register_a.slug]
    record = activities[0]
    for key in (
        "controller",
        "data_protection_officer",
        "purposes",
        "legal_bases",
        "data_subject_categories",
        "personal_data_categories",
        "recipients",
        "transfers_outside_eea",
        "retention",
        "security_measures",
    ):
        assert key in record
    assert record["retention"]["inactivity_months"] == 36
    assert record["description"]["url"].endswith(f"/registers/{register_a.slug}/description/")


def test_a_main_user_exports_every_register(client, register_a, register_b, main_user):
    client.force_login(main_user)
    data = json.loads(client.get("/registers/records-of-processing.json").content)
    slugs = {a["register"]["slug"] for a in data["processing_activities"]}
    assert slugs == set(Register.objects.values_list("slug", flat=True))


def test_staff_without_owner_role_gets_404_on_the_record(client, register_a, staff_b):
    client.force_login(staff_b)
    assert client.get("/registers/records-of-processing.json").status_code == 404


def test_anonymous_record_export_goes_to_login(client, register_a):
    response = client.get("/registers/records-of-processing.json")
    assert response.status_code == 302
