"""The quick start's integration client: the key `load_demo` prints opens the API, with the printed scopes."""

import io
import re

import pytest
from django.core.management import call_command

from .factories import KeyClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_printed_demo_key_reads_its_registers_and_only_those():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=io.StringIO())  # idempotent: the same key still works
    key = re.search(r"Api-Key ([\w.-]+)'", out.getvalue()).group(1)

    response = KeyClient(key).get("/api/v1/registers/")

    assert response.status_code == 200
    assert {row["slug"]: row["writable"] for row in response.json()} == {
        "helsinki-business-services": True,
        "helsinki-tourism-convention": False,
    }
    customers = KeyClient(key).get("/api/v1/registers/kemi-vitality-crm/customers/")
    assert customers.status_code == 404
