import re

import pytest
from django.contrib.auth import get_user_model
from django.utils.html import escape

from registers.models import Membership, Role
from registers.selectors import register_list
from registers.services import ERROR_CANNOT_GRANT

from ..factories import ContactCentreRegisterFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def grant_data(user, role=Role.STAFF, **extra):
    return {"username": user.username, "role": role, "starts_on": "2026-01-01", "reason": "Uusi tehtävä", **extra}


def test_a_handler_sees_who_has_access(client, handler_a, staff_a, register_a):
    client.force_login(handler_a)
    response = client.get(f"/registers/{register_a.slug}/access/")
    assert response.status_code == 200
    assert "staff_a" in response.content.decode()


def test_a_handler_grants_a_staff_role_with_an_end_date(client, handler_a, register_a):
    newcomer = UserFactory(username="newcomer")
    client.force_login(handler_a)
    response = client.post(f"/registers/{register_a.slug}/access/grant/", grant_data(newcomer, ends_on="2099-12-31"))
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert (membership.granted_by, membership.grant_reason, str(membership.ends_on)) == (
        handler_a,
        "Uusi tehtävä",
        "2099-12-31",
    )


def test_a_handler_cannot_grant_themselves_the_owner_role(client, handler_a, register_a):
    client.force_login(handler_a)
    response = client.post(f"/registers/{register_a.slug}/access/grant/", grant_data(handler_a, Role.OWNER))
    assert response.status_code == 403
    assert str(ERROR_CANNOT_GRANT) in response.content.decode()
    assert not Membership.objects.filter(user=handler_a, role=Role.OWNER).exists()


def test_the_role_menu_offers_only_grantable_roles(client, handler_a, register_a):
    client.force_login(handler_a)
    page = client.get(f"/registers/{register_a.slug}/access/").content.decode()
    assert 'value="staff"' in page
    assert 'value="owner"' not in page


def test_an_unknown_or_inactive_username_is_refused(client, handler_a, register_a):
    sleeper = UserFactory(username="sleeper", is_active=False)
    client.force_login(handler_a)
    for username in ("nobody", sleeper.username):
        response = client.post(
            f"/registers/{register_a.slug}/access/grant/",
            {"username": username, "role": "staff", "starts_on": "2026-01-01", "reason": "x"},
        )
        assert response.status_code == 400
    assert not Membership.objects.filter(user=sleeper).exists()


def test_ending_access_removes_permissions_and_records_the_reason(client, handler_a, staff_a, register_a):
    membership = Membership.objects.get(user=staff_a)
    client.force_login(handler_a)
    response = client.post(
        f"/registers/{register_a.slug}/access/{membership.code}/end/", {"reason": "Siirtyi toiseen yksikköön"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.ended_by, membership.end_reason) == (handler_a, "Siirtyi toiseen yksikköön")
    assert not register_list(user=fresh(staff_a)).exists()


def test_a_handler_cannot_end_the_owners_access(client, handler_a, owner_a, register_a):
    membership = Membership.objects.get(user=owner_a)
    client.force_login(handler_a)
    response = client.post(f"/registers/{register_a.slug}/access/{membership.code}/end/", {"reason": "x"})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.ended_at is None


def test_another_registers_membership_is_not_found(client, handler_a, staff_b, register_a):
    membership = Membership.objects.get(user=staff_b)
    client.force_login(handler_a)
    response = client.post(f"/registers/{register_a.slug}/access/{membership.code}/end/", {"reason": "x"})
    assert response.status_code == 404


def test_a_main_user_manages_any_register(client, main_user, register_b):
    client.force_login(main_user)
    newcomer = UserFactory()
    response = client.post(f"/registers/{register_b.slug}/access/grant/", grant_data(newcomer, Role.OWNER))
    assert response.status_code == 302
    assert Membership.objects.filter(user=newcomer, role=Role.OWNER).exists()


def test_a_main_user_lists_creates_and_deactivates_accounts(client, main_user, staff_a):
    client.force_login(main_user)
    assert "staff_a" in client.get("/registers/users/").content.decode()
    response = client.post(
        "/registers/users/new/",
        {"username": "uusi", "first_name": "U", "last_name": "K", "email": "u@k.fi", "reason": "Rekrytointi"},
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="uusi").exists()
    response = client.post("/registers/users/staff_a/deactivate/", {"reason": "Työsuhde päättyi"})
    assert response.status_code == 302
    assert not fresh(staff_a).is_active


@pytest.mark.parametrize("url", ["/registers/users/", "/registers/users/staff_a/", "/registers/logins/"])
def test_account_screens_are_for_main_users_only(client, owner_a, staff_a, url):
    client.force_login(owner_a)
    assert client.get(url).status_code == 403


def test_deactivation_is_post_only_and_for_main_users(client, owner_a, staff_a):
    client.force_login(owner_a)
    assert client.post("/registers/users/staff_a/deactivate/", {"reason": "x"}).status_code == 403
    assert fresh(staff_a).is_active


def test_a_staff_user_cannot_open_the_account_form(client, staff_a):
    client.force_login(staff_a)
    assert client.get("/registers/users/new/").status_code == 403


def end_url(register, membership) -> str:
    return f"/registers/{register.slug}/access/{membership.code}/end/"


def test_the_last_owner_cannot_end_their_own_owner_role(client, owner_a, register_a):
    from django.utils import translation
    from django.utils.translation import gettext

    from registers.services import ERROR_LAST_OWNER

    membership = Membership.objects.get(user=owner_a, register=register_a, role=Role.OWNER)
    client.force_login(owner_a)
    response = client.post(end_url(register_a, membership), {"reason": "Lähden"}, follow=True)
    assert response.status_code == 200
    with translation.override("fi"):
        assert gettext(ERROR_LAST_OWNER) in response.content.decode()
    membership.refresh_from_db()
    assert membership.ended_at is None
    assert register_list(user=fresh(owner_a)).filter(pk=register_a.pk).exists()


def test_an_owner_ends_their_own_role_when_another_owner_remains(client, owner_a, register_a):
    from ..conftest import grant

    grant(UserFactory(username="owner_a2"), register_a, Role.OWNER)
    membership = Membership.objects.get(user=owner_a, register=register_a, role=Role.OWNER)
    client.force_login(owner_a)
    client.post(end_url(register_a, membership), {"reason": "Lähden"})
    membership.refresh_from_db()
    assert membership.ended_at is not None


def test_an_inactive_owner_does_not_count_as_the_remaining_owner(client, owner_a, register_a):
    from ..conftest import grant

    grant(UserFactory(username="owner_gone", is_active=False), register_a, Role.OWNER)
    membership = Membership.objects.get(user=owner_a, register=register_a, role=Role.OWNER)
    client.force_login(owner_a)
    client.post(end_url(register_a, membership), {"reason": "Lähden"})
    membership.refresh_from_db()
    assert membership.ended_at is None


def test_a_main_user_may_end_the_last_owner_role(client, main_user, owner_a, register_a):
    membership = Membership.objects.get(user=owner_a, register=register_a, role=Role.OWNER)
    client.force_login(main_user)
    client.post(end_url(register_a, membership), {"reason": "Siirtyi muualle"})
    membership.refresh_from_db()
    assert membership.ended_at is not None


def role_options(page: str) -> list[tuple[str, bool]]:
    """Return (value, selected) of each option of the grant form's role menu."""
    menu = re.search(r'<select name="role"[^>]*>(.*?)</select>', page, flags=re.S)
    return [(value, bool(selected)) for value, selected in re.findall(r'<option value="([^"]*)"( selected)?', menu[1])]


def test_the_role_menu_preselects_nothing_and_requires_a_choice(client, main_user, register_a):
    client.force_login(main_user)
    page = client.get(f"/registers/{register_a.slug}/access/").content.decode()
    options = role_options(page)
    # An empty "choose" option comes first and is what the menu shows: no role is selected.
    assert options[0][0] == ""
    assert [value for value, selected in options if selected] in ([], [""])
    assert re.search(r'<select name="role"[^>]*required', page)
    newcomer = UserFactory(username="newcomer")
    response = client.post(f"/registers/{register_a.slug}/access/grant/", grant_data(newcomer, role=""))
    assert response.status_code == 400
    assert 'id="id_role_error"' in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_the_role_menu_offers_only_roles_that_fit_the_kind_of_register(client, main_user, register_a):
    archive = ContactCentreRegisterFactory(slug="archive")
    client.force_login(main_user)
    customer_roles = [
        value for value, _selected in role_options(client.get(f"/registers/{register_a.slug}/access/").content.decode())
    ]
    archive_roles = [
        value for value, _selected in role_options(client.get(f"/registers/{archive.slug}/access/").content.decode())
    ]
    assert customer_roles == ["", Role.OWNER, Role.HANDLER, Role.STAFF]
    assert archive_roles == ["", Role.OWNER, Role.HANDLER, Role.CONTACT_CENTRE_EXPERT, Role.CLIENT_MANAGER]


@pytest.mark.parametrize(
    ("kind", "role"),
    [("customer", Role.CONTACT_CENTRE_EXPERT), ("customer", Role.CLIENT_MANAGER), ("archive", Role.STAFF)],
)
def test_a_role_that_does_not_fit_the_register_is_refused_even_if_posted(client, main_user, register_a, kind, role):
    from django.utils import translation

    register = register_a if kind == "customer" else ContactCentreRegisterFactory(slug="archive")
    newcomer = UserFactory(username="newcomer")
    client.force_login(main_user)
    response = client.post(
        f"/registers/{register.slug}/access/grant/", grant_data(newcomer, role=role), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    with translation.override("en"):
        error = f"The role “{Role(role).label}” does not fit a {register.get_kind_display()}."
    assert escape(error) in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()
