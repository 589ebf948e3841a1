import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from registers.description import description_missing, description_publish, description_snapshot
from registers.models import Register

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # Loaded once for the module's readers; each test's own changes roll back to it.
    with (
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        call_command("load_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


HEADINGS = {
    "fi": ["1. Rekisterin nimi", "2. Rekisterinpitäjä", "13. Säilytysajat", "16. Oikeus tehdä valitus"],
    "sv": ["1. Registrets namn", "2. Personuppgiftsansvarig", "13. Lagringstider", "16. Rätt att lämna in klagomål"],
    "en": ["1. Name of the register", "2. Controller", "13. Retention periods", "16. Right to lodge a complaint"],
}


def test_every_demo_register_has_a_public_description_in_three_languages(demo, client):
    registers = list(Register.objects.select_related("organisation"))
    assert len(registers) >= 5
    for register in registers:
        for language, headings in HEADINGS.items():
            response = client.get(f"/registers/{register.slug}/description/", HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, (register.slug, language)
            page = response.content.decode()
            for heading in headings:
                assert heading in page, (register.slug, language, heading)
            assert getattr(register, f"name_{language}") in page
            with translation.override(language):
                assert register.organisation.name in page
            assert f'<html lang="{language}">' in page


def test_the_five_demo_descriptions_publish_cleanly(demo, main_user):
    for register in Register.objects.select_related("organisation"):
        assert description_missing(description_snapshot(register)) == [], register.slug
        assert description_publish(actor=main_user, register=register).number == 1


def test_every_demo_controller_and_its_required_items_read_in_three_languages(demo):
    registers = list(Register.objects.select_related("organisation").filter(parent=None))
    assert len(registers) == 5
    for register in registers:
        for language in ("fi", "sv", "en"):
            assert getattr(register.organisation, f"name_{language}"), (register.slug, language)
            if register.organisation.public_authority:
                assert getattr(register, f"dpo_contact_{language}"), (register.slug, language)
            assert getattr(register, f"retention_text_{language}"), (register.slug, language)
