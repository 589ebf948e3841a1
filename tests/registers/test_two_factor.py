import base64
import datetime
import importlib
import io
import secrets
import types
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import totp

from registers.recovery_codes import RecoveryCode, RecoveryCodeDevice, recovery_codes_create
from registers.totp import TOTPDevice
from registers.two_factor import ERROR_AUTHENTICATOR_UNREADABLE, ERROR_WRONG_CODE

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


def secret_forms(bin_key: bytes) -> list[str]:
    """Every way the secret is usually written down: hex (django-otp's column) and base32 (the typed key)."""
    b32 = base64.b32encode(bin_key).decode()
    return [bin_key.hex(), bin_key.hex().upper(), b32, b32.rstrip("="), b32.lower().rstrip("=")]


def test_the_typed_key_and_the_qr_code_set_up_an_authenticator_whose_secret_is_stored_only_encrypted(
    plain_client, owner_a, register_a
):
    plain_client.force_login(owner_a)
    page = plain_client.get("/accounts/two-factor/")
    typed = page.context["secret"]
    assert typed in page.content.decode()
    bin_key = base64.b32decode(typed)
    device = TOTPDevice.objects.get(user=owner_a, confirmed=False)
    qr = parse_qs(urlsplit(device.config_url).query)
    assert qr["secret"] == [typed]
    assert qr["issuer"] == ["Rekisteri"]
    code = f"{totp(bin_key, step=30, digits=6):06d}"
    response = plain_client.post("/accounts/two-factor/", {"token": code, "next": "/"})
    assert response.context["codes"]
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200
    text = all_database_text()
    assert [form for form in secret_forms(bin_key) if form in text] == []


def test_signing_in_with_a_code_from_the_secret_passes_the_second_factor(plain_client, owner_a, register_a):
    device = verified_device(owner_a)
    plain_client.force_login(owner_a)
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 302
    response = plain_client.post(
        "/accounts/two-factor/", {"token": code_for(device), "next": f"/crm/{register_a.slug}/"}
    )
    assert response["Location"] == f"/crm/{register_a.slug}/"
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200


def test_a_used_code_is_not_accepted_twice(plain_client, owner_a, register_a):
    device = verified_device(owner_a)
    code = code_for(device)
    plain_client.force_login(owner_a)
    plain_client.post("/accounts/two-factor/", {"token": code})
    plain_client.logout()
    plain_client.force_login(owner_a)
    response = plain_client.post("/accounts/two-factor/", {"token": code})
    assert response.context["form"].errors["token"] == [ERROR_WRONG_CODE]


# The first delay is one second by default; a longer one keeps the test from racing the clock.
@override_settings(OTP_TOTP_THROTTLE_FACTOR=60, OTP_STATIC_THROTTLE_FACTOR=60)
def test_a_wrong_code_throttles_the_authenticator_so_even_the_right_code_waits(plain_client, owner_a, register_a):
    device = verified_device(owner_a)
    plain_client.force_login(owner_a)
    wrong = f"{(int(code_for(device)) + 1) % 1000000:06d}"
    plain_client.post("/accounts/two-factor/", {"token": wrong})
    response = plain_client.post("/accounts/two-factor/", {"token": code_for(device)})
    assert response.context["form"].errors["token"]
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    a_minute_later(owner_a)
    plain_client.post("/accounts/two-factor/", {"token": code_for(device)})
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200


def a_minute_later(user) -> None:
    """Move the user's last failed attempts a minute into the past, as a person pausing would."""
    earlier = timezone.now() - datetime.timedelta(minutes=1)
    for model in (TOTPDevice, RecoveryCodeDevice):
        model.objects.filter(user=user).exclude(throttling_failure_timestamp=None).update(
            throttling_failure_timestamp=earlier
        )


def test_a_wrong_encryption_key_refuses_the_code_with_a_clear_message_and_recovery_codes_still_work(
    plain_client, owner_a, register_a
):
    device = verified_device(owner_a)
    recovery = recovery_codes_create(user=owner_a)
    code = code_for(device)
    plain_client.force_login(owner_a)
    with override_settings(TOTP_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        response = plain_client.post("/accounts/two-factor/", {"token": code})
        assert response.status_code == 200
        assert response.context["form"].errors["token"] == [ERROR_AUTHENTICATOR_UNREADABLE]
        assert str(ERROR_AUTHENTICATOR_UNREADABLE) in response.content.decode()
        assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 302
        a_minute_later(owner_a)
        plain_client.post("/accounts/two-factor/", {"token": recovery[0]})
        assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200


def test_a_pending_set_up_under_a_lost_key_starts_afresh(plain_client, owner_a):
    plain_client.force_login(owner_a)
    plain_client.get("/accounts/two-factor/")
    with override_settings(TOTP_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        page = plain_client.get("/accounts/two-factor/")
        assert page.status_code == 200
        device = TOTPDevice.objects.get(user=owner_a, confirmed=False)
        assert base64.b32decode(page.context["secret"]) == device.bin_key


def test_after_a_key_rotation_codes_still_work_and_secrets_move_to_the_new_key(plain_client, owner_a, main_user):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(TOTP_ENCRYPTION_KEYS=[old_key]):
        device = verified_device(owner_a)
        other = verified_device(main_user)
        bin_key = device.bin_key
    with override_settings(TOTP_ENCRYPTION_KEYS=[new_key, old_key]):
        assert device.verify_token(code_for(device))
        call_command("totp_reencrypt", stdout=io.StringIO())
    with override_settings(TOTP_ENCRYPTION_KEYS=[new_key]):
        device.refresh_from_db()
        other.refresh_from_db()
        assert device.bin_key == bin_key
        assert other.key_readable
    lost = override_settings(TOTP_ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    with lost, pytest.raises(CommandError, match="keep the old key listed"):
        call_command("totp_reencrypt", stdout=io.StringIO())


def test_the_migration_encrypts_django_otps_clear_secrets_and_deletes_them(owner_a):
    """An installation upgraded from django-otp's TOTP plugin keeps its authenticators, encrypted."""
    migration = importlib.import_module("registers.migrations.0007_totp_encrypted_keys")
    quote = connection.ops.quote_name
    timestamp = connection.data_types["DateTimeField"]
    columns = {
        "id": "integer PRIMARY KEY", "user_id": "integer NOT NULL", "name": "varchar(64) NOT NULL",
        "confirmed": "boolean NOT NULL", "key": "varchar(80) NOT NULL", "step": "smallint NOT NULL",
        "t0": "bigint NOT NULL", "digits": "smallint NOT NULL", "tolerance": "smallint NOT NULL",
        "drift": "smallint NOT NULL", "last_t": "bigint NOT NULL", "throttling_failure_timestamp": f"{timestamp} NULL",
        "throttling_failure_count": "integer NOT NULL", "created_at": f"{timestamp} NULL",
        "last_used_at": f"{timestamp} NULL",
    }  # fmt: skip
    confirmed, pending = secrets.token_bytes(20), secrets.token_bytes(20)
    created = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)
    insert = (
        f"INSERT INTO otp_totp_totpdevice ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, 30, 0, 6, 1, 0, -1, NULL, 0, %s, NULL)"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE otp_totp_totpdevice ({', '.join(f'{quote(c)} {t}' for c, t in columns.items())})")
        cursor.execute(insert, [1, owner_a.pk, "authenticator", True, confirmed.hex(), created])
        cursor.execute(insert, [2, owner_a.pk, "authenticator", False, pending.hex(), created])

        migration.encrypt_clear_totp_keys(django_apps(), types.SimpleNamespace(connection=connection))

        cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
        assert cursor.fetchone()[0] == 0
    device = TOTPDevice.objects.get(user=owner_a)
    assert device.confirmed
    assert device.bin_key == confirmed
    assert device.created_at == created
    assert device.verify_token(f"{totp(confirmed, step=30, digits=6):06d}")
    text = all_database_text()
    assert [form for form in secret_forms(confirmed) + secret_forms(pending) if form in text] == []


def django_apps():
    from django.apps import apps

    return apps
