import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

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
    assert StaticToken.objects.filter(device__user=owner_a).count() == 10
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
    from django_otp.plugins.otp_static.models import StaticDevice

    recovery = StaticDevice.objects.create(user=owner_a, name="recovery")
    recovery.token_set.create(token="abcdef1234")
    plain_client.force_login(owner_a)
    plain_client.post("/accounts/two-factor/", {"token": "abcdef1234"})
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 200
    plain_client.logout()
    plain_client.force_login(owner_a)
    plain_client.post("/accounts/two-factor/", {"token": "abcdef1234"})
    assert plain_client.get(f"/crm/{register_a.slug}/").status_code == 302


def test_the_next_address_cannot_lead_off_site(plain_client, owner_a):
    device = verified_device(owner_a)
    plain_client.force_login(owner_a)
    response = plain_client.post("/accounts/two-factor/", {"token": code_for(device), "next": "https://evil.example"})
    assert response["Location"] == "/"
