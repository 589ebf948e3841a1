"""Publishing refuses a description that lacks what GDPR arts. 13, 30 and 37 require it to state."""

import pytest
from django.utils import translation
from django.utils.html import escape

from registers.description import (
    DescriptionIncompleteError,
    description_missing,
    description_publish,
    description_snapshot,
)
from registers.models import RegisterDescriptionVersion

from ..factories import OrganisationFactory, RegisterFactory

pytestmark = pytest.mark.django_db

DPO_MISSING = "the data protection officer's contact details (required of a public authority)"


@pytest.fixture
def bare(db):
    """A city's register that states none of the required items."""
    organisation = OrganisationFactory(name_fi="Tyhjälän kaupunki", address="", registry_email="")
    return RegisterFactory(slug="bare", organisation=organisation, retention_months=None, legal_bases=[])


def test_publishing_without_dpo_and_contacts_is_refused_with_the_list(bare, main_user):
    with translation.override("en"), pytest.raises(DescriptionIncompleteError) as refused:
        description_publish(actor=main_user, register=bare)
    assert refused.value.missing == [
        "the controller's postal address",
        "the controller's e-mail address",
        DPO_MISSING,
        "the legal basis of processing",
        "the retention period or the criteria for it",
    ]
    assert not RegisterDescriptionVersion.objects.exists()


def test_a_complete_description_of_an_authority_publishes(bare, main_user):
    bare.organisation.address = "Kaupungintalo, 00100 Tyhjälä"
    bare.organisation.registry_email = "kirjaamo@tyhjala.example"
    bare.organisation.save()
    bare.dpo_contact_sv = "Dataskyddsombud, dataskydd@tyhjala.example"
    bare.legal_bases = ["e"]
    bare.retention_text_en = "Kept until the company asks for removal."
    bare.save()
    version = description_publish(actor=main_user, register=bare)
    assert version.number == 1


def test_a_company_need_not_name_a_data_protection_officer(db):
    company = OrganisationFactory(name_fi="Yritys Oy", public_authority=False)
    register = RegisterFactory(organisation=company, retention_months=24)
    assert description_missing(description_snapshot(register)) == []
    register.organisation.public_authority = True
    register.organisation.save()
    with translation.override("en"):
        missing = description_missing(description_snapshot(register))
    assert missing == [DPO_MISSING]


def test_the_owner_is_told_what_is_missing_in_the_preview_and_on_publishing(client, register_a, owner_a):
    client.force_login(owner_a)
    preview = client.get(f"/registers/{register_a.slug}/description/preview/", HTTP_ACCEPT_LANGUAGE="en")
    assert escape(DPO_MISSING) in preview.content.decode()
    response = client.post(
        f"/registers/{register_a.slug}/description/publish/", {"note": "Yearly"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/registers/{register_a.slug}/description/preview/"
    shown = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The description was not published because it does not state:" in shown
    assert not RegisterDescriptionVersion.objects.filter(register=register_a).exists()


def test_the_admin_action_reports_an_incomplete_description(client, register_a, main_user):
    client.force_login(main_user)
    response = client.post(
        "/admin/registers/register/",
        {"action": "publish_description", "_selected_action": [register_a.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert escape(DPO_MISSING) in response.content.decode()
    assert not RegisterDescriptionVersion.objects.filter(register=register_a).exists()
