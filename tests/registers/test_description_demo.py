import io

import pytest
from django.core.management import call_command

from registers.models import Register

pytestmark = pytest.mark.django_db

HEADINGS = {
    "fi": ["1. Rekisterin nimi", "2. Rekisterinpitäjä", "13. Säilytysajat", "16. Oikeus tehdä valitus"],
    "sv": ["1. Registrets namn", "2. Personuppgiftsansvarig", "13. Lagringstider", "16. Rätt att lämna in klagomål"],
    "en": ["1. Name of the register", "2. Controller", "13. Retention periods", "16. Right to lodge a complaint"],
}


def test_every_demo_register_has_a_public_description_in_three_languages(client):
    call_command("load_demo", stdout=io.StringIO())
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
            assert register.organisation.name in page
            assert f'<html lang="{language}">' in page
