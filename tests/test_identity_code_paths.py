"""Identity codes on the paths that bypassed the checks (issue 11, B5-B7): grants, loaddata, consents, the ledger."""

import json

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, Interaction
from crm.validators import ERROR_IDENTITY_CODE
from privacy.rights.models import ConsentNotice, Disclosure
from registers.models import Membership

from .factories import CustomerFactory, PersonCustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


CODES = ["131052-308T", "131052308T"]


@pytest.mark.parametrize("code", CODES)
def test_a_grant_reason_with_an_identity_code_is_refused_and_not_audited(client, owner_a, register_a, code):
    user = UserFactory(username="uusi")
    client.force_login(owner_a)
    response = client.post(
        reverse("registers:membership-grant", kwargs={"register": register_a.slug}),
        {"username": "uusi", "role": "staff", "starts_on": timezone.localdate().isoformat(), "reason": f"Pää {code}"},
    )
    assert response.status_code == 400
    assert str(ERROR_IDENTITY_CODE) in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()
    assert not LogEntry.objects.filter(changes_text__contains=code).exists()
    assert not LogEntry.objects.filter(serialized_data__icontains=code[:6]).exists()


@pytest.mark.parametrize("code", CODES)
def test_a_grant_reason_is_refused_by_the_model_whatever_the_path(register_a, owner_a, code):
    user = UserFactory()
    # A savepoint, as a service's own transaction would be: the refused write spoils only it.
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        Membership.objects.create(user=user, register=register_a, role="staff", grant_reason=code)
    assert caught.value.message_dict == {"grant_reason": [str(ERROR_IDENTITY_CODE)]}
    assert not Membership.objects.filter(user=user).exists()


@pytest.mark.parametrize("code", CODES)
def test_ending_a_membership_with_an_identity_code_shows_the_identity_code_message(
    client, owner_a, staff_a, register_a, code
):
    membership = Membership.objects.get(user=staff_a, register=register_a, ended_at__isnull=True)
    client.force_login(owner_a)
    url = reverse("registers:membership-end", kwargs={"register": register_a.slug, "code": membership.code})
    response = client.post(url, {"reason": code}, follow=True)
    assert str(ERROR_IDENTITY_CODE) in response.content.decode()
    membership.refresh_from_db()
    assert membership.ended_at is None
    assert membership.end_reason == ""


@pytest.mark.parametrize("code", CODES)
def test_loaddata_refuses_an_identity_code_in_free_text(register_a, tmp_path, code):
    fixture = tmp_path / "customers.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "crm.customer",
                    "fields": {
                        "register": register_a.pk,
                        "kind": "person",
                        "last_name": "Virtanen",
                        "sort_name": "virtanen",
                        "extra_info": f"hetu {code}",
                        "code": "6f0ab3a4-3e0e-4f59-9a53-0c0e7c8c1a11",
                        "created_at": "2026-01-01T00:00:00Z",
                        "updated_at": "2026-01-01T00:00:00Z",
                        "last_activity_at": "2026-01-01T00:00:00Z",
                    },
                }
            ]
        )
    )
    with pytest.raises(ValidationError) as caught:
        call_command("loaddata", str(fixture), verbosity=0)
    assert caught.value.message_dict == {"extra_info": [str(ERROR_IDENTITY_CODE)]}
    assert not Customer.objects.filter(last_name="Virtanen").exists()


def test_update_and_bulk_update_cannot_write_an_identity_code(register_a):
    customer = CustomerFactory(register=register_a)
    with pytest.raises(ValidationError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(extra_info="131052308T")
    customer.extra_info = "131052-308T"
    with pytest.raises(ValidationError), transaction.atomic():
        Customer.objects.bulk_update([customer], ["extra_info"])
    customer.refresh_from_db()
    assert customer.extra_info == ""


@pytest.mark.parametrize("code", CODES)
def test_the_consent_notice_version_refuses_a_code_with_the_identity_code_message(client, owner_a, register_a, code):
    # Since issue 22 a consent names a stored notice version; the version's label is typed where the notice is added.
    client.force_login(owner_a)
    url = reverse("privacy:notice-create", kwargs={"register": register_a.slug})
    response = client.post(
        url,
        {
            "use": "consent:newsletter",
            "version": code,
            "valid_from": timezone.localdate().isoformat(),
            "text_fi": "Lähetämme uutiskirjeen kerran kuussa.",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert str(ERROR_IDENTITY_CODE) in html
    assert f'value="{code}"' in html  # what was typed comes back to be corrected
    assert "Lähetämme uutiskirjeen kerran kuussa." in html
    assert not ConsentNotice.objects.filter(register=register_a).exists()


def test_the_disclosure_ledger_shows_the_errors_and_keeps_the_input(client, staff_a, register_a):
    customer = PersonCustomerFactory(register=register_a)
    client.force_login(staff_a)
    url = reverse("privacy:disclosures", kwargs={"register": register_a.slug})
    response = client.post(
        url,
        {
            "customer": customer.code,
            "recipient": "Kaupungin lakipalvelut",
            "recipient_kind": "legal_services",
            "data_description": "Nimi, osoite ja henkilötunnus 131052308T",
            "legal_basis": "",
            "disclosed_on": timezone.localdate().isoformat(),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert str(ERROR_IDENTITY_CODE) in html
    assert "This field is required." in html
    assert 'value="Kaupungin lakipalvelut"' in html  # the clerk's typing is kept
    assert "Nimi, osoite ja henkilötunnus 131052308T" in html
    assert not Disclosure.objects.exists()


def test_an_identity_code_in_an_interaction_is_refused_without_the_century_sign(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    url = reverse("crm:interaction-create", kwargs={"register": register_a.slug, "code": customer.code})
    data = {"kind": "note", "occurred_at": "2026-03-02T14:30", "subject": "Soitto", "text": "Asiakas 131052308T"}
    response = client.post(url, data)
    assert response.context["form"].errors["text"] == [str(ERROR_IDENTITY_CODE)]
    assert not Interaction.objects.exists()
