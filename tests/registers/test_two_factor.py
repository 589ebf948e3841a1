import pytest
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from registers.recovery_codes import RecoveryCode, recovery_codes_create

from ..conftest import verified_device

pytestmark = pytest.mark.django_db


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_an_owner_must_pass_a_second_factor_before_any_page(plain_client, owner_a, register_a):
    plain_client.force_login(owner_a)
    response = plain_client.get(f"/crm/{register_a.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")


def test_a_main_user_must_pass_a_second_factor_for_the_admin(plain_client, main_user):
    plain_client.force_login(main_user)
    response = plain_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")


def test_a_staff_user_needs_no_second_factor(plain_client, staff_a, register_a):
    plain_client.force_login(staff_a)
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200


def test_first_use_sets_up_an_authenticator_and_shows_recovery_codes(plain_client, owner_a, register_a):
    plain_client.force_login(owner_a)
    page = plain_client.get("/accounts/two-factor/")
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=owner_a, confirmed=False)
    response = plain_client.post("/accounts/two-factor/", {"token": code_for(device), "next": "/"})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert RecoveryCode.objects.filter(device__user=owner_a).count() == 10
    assert_nowhere_in_database(codes)
    device.refresh_from_db()
    assert device.confirmed
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200


def test_a_wrong_code_is_refused_with_a_message(plain_client, owner_a):
    device = verified_device(owner_a)
    plain_client.force_login(owner_a)
    wrong = f"{(int(code_for(device)) + 1) % 1000000:06d}"
    response = plain_client.post("/accounts/two-factor/", {"token": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert plain_client.get("/").status_code == 302


def test_a_recovery_code_works_once(plain_client, owner_a, register_a):
    verified_device(owner_a)
    code = recovery_codes_create(user=owner_a)[3]
    plain_client.force_login(owner_a)
    plain_client.post("/accounts/two-factor/", {"token": code})
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200
    assert RecoveryCode.objects.filter(device__user=owner_a).count() == 9
    plain_client.logout()
    plain_client.force_login(owner_a)
    plain_client.post("/accounts/two-factor/", {"token": code})
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 302


def test_another_users_recovery_code_does_not_work(plain_client, owner_a, main_user, register_a):
    verified_device(owner_a)
    recovery_codes_create(user=owner_a)
    others = recovery_codes_create(user=main_user)
    plain_client.force_login(owner_a)
    response = plain_client.post("/accounts/two-factor/", {"token": others[0]})
    assert response.context["form"].errors["token"]
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 302


def all_database_text() -> str:
    """Every text value in every table, as one string (what a stolen backup would hold)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  # nosec: B608
            chunks.extend(str(value) for row in cursor.fetchall() for value in row if value is not None)
    return "\n".join(chunks)


def assert_nowhere_in_database(secrets: list[str]) -> None:
    text = all_database_text()
    assert not [secret for secret in secrets if secret in text]


def test_recovery_codes_are_stored_only_as_hashes(owner_a):
    codes = recovery_codes_create(user=owner_a)
    assert_nowhere_in_database(codes)


def test_the_next_address_cannot_lead_off_site(plain_client, owner_a):
    device = verified_device(owner_a)
    plain_client.force_login(owner_a)
    response = plain_client.post("/accounts/two-factor/", {"token": code_for(device), "next": "https://evil.example"})
    assert response["Location"] == "/"
