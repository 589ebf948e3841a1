import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_user_signs_in_and_sees_only_their_register(sign_in, live_server, staff_a, register_a, register_b):
    page = sign_in(staff_a)
    nav = page.get_by_role("navigation", name="Rekisterit").or_(page.get_by_role("navigation", name="Registers"))
    assert nav.get_by_role("link", name=register_a.name_fi).is_visible()
    assert nav.get_by_role("link", name=register_b.name_fi).count() == 0
    response = page.goto(f"{live_server.url}/crm/{register_b.slug}/")
    assert response.status == 404
