import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session

from registers.sessions import LAST_SEEN_AT, SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def age_session(client, **offsets):
    session = client.session
    for key, seconds in offsets.items():
        session[key] = int(time.time()) - seconds
    session.save()


def test_an_idle_session_ends_after_thirty_minutes(client, staff_a, register_a):
    client.force_login(staff_a)
    assert client.get("/").status_code == 200
    age_session(client, **{LAST_SEEN_AT: 31 * 60})
    response = client.get(f"/crm/{register_a.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert (
        not Session.objects.filter(session_key=client.session.session_key, expire_date__isnull=False)
        .filter(session_data__contains=SESSION_KEY)
        .exists()
    )


def test_an_active_session_ends_twelve_hours_after_sign_in(client, staff_a):
    client.force_login(staff_a)
    client.get("/")
    age_session(client, **{SIGNED_IN_AT: 12 * 3600 + 1, LAST_SEEN_AT: 10})
    assert client.get("/").status_code == 302


def test_a_session_in_use_stays_open(client, staff_a):
    client.force_login(staff_a)
    client.get("/")
    age_session(client, **{SIGNED_IN_AT: 3600, LAST_SEEN_AT: 29 * 60})
    assert client.get("/").status_code == 200


def test_logout_ends_the_session_on_the_server(client, staff_a):
    client.force_login(staff_a)
    key = client.session.session_key
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()


def test_a_password_change_ends_the_users_other_sessions(client, staff_a):
    from django.test import Client

    other = Client()
    other.force_login(staff_a)
    assert other.get("/").status_code == 200
    client.force_login(staff_a)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "kirsikkapuu kukkii keväällä",
            "new_password1": "uusi pitkä salasana vuodelle 2027",
            "new_password2": "uusi pitkä salasana vuodelle 2027",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
