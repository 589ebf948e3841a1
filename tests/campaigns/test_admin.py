"""The bounce mailbox in the admin: main users only, the password written sealed and never shown again."""

import pytest
from django.urls import reverse

from campaigns.models import BounceMailbox
from registers.sealing import unseal_text
from tests.conftest import TwoFactorClient
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_main_user_adds_a_bounce_mailbox_with_a_sealed_password(main_user):
    client = TwoFactorClient()
    client.force_login(main_user)
    organisation = OrganisationFactory()
    response = client.post(
        reverse("admin:campaigns_bouncemailbox_add"),
        {
            "organisation": organisation.pk,
            "address": "bounces@example.fi",
            "host": "imap.example.fi",
            "port": 993,
            "security": "tls",
            "username": "bounces",
            "password": "salainen sana 123",
            "folder": "INBOX",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mailbox = BounceMailbox.objects.get()
    assert unseal_text(mailbox.sealed_password) == "salainen sana 123"
    page = client.get(reverse("admin:campaigns_bouncemailbox_change", args=[mailbox.pk])).content.decode()
    assert "salainen sana 123" not in page
    assert mailbox.sealed_password not in page


def test_a_staff_user_outside_the_main_users_gets_nothing():
    client = TwoFactorClient()
    client.force_login(UserFactory(username="staff_only", is_staff=True))
    assert client.get(reverse("admin:campaigns_bouncemailbox_changelist")).status_code == 403
