import re

import pytest
from axes.models import AccessFailureLog, AccessLog

from registers.audit import LoginKind, login_list

from ..factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def visible(response) -> str:
    # The CSRF token differs per response; everything else must be identical.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def fail(client, username, times, address="203.0.113.5"):
    return [
        client.post(LOGIN, {"username": username, "password": "väärä salasana"}, REMOTE_ADDR=address)
        for _ in range(times)
    ]


def test_the_fifth_failure_locks_the_username_at_that_address(client, staff_a):
    responses = fail(client, "staff_a", 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_locked_username_stays_locked_from_another_address(client, staff_a):
    fail(client, "staff_a", 5)
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.99")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_spread_over_addresses_lock_the_username(client, staff_a):
    statuses = [fail(client, "staff_a", 1, address=f"198.51.100.{n}")[0].status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 200, 429]
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429


def test_an_unknown_username_spread_over_addresses_gets_the_same_lock_page(client, staff_a):
    known = [fail(client, "staff_a", 1, address=f"198.51.100.{n}")[0] for n in range(1, 6)][-1]
    unknown = [fail(client, "nobody_here", 1, address=f"198.51.101.{n}")[0] for n in range(1, 6)][-1]
    assert known.status_code == unknown.status_code == 429
    assert visible(known) == visible(unknown)


def test_one_address_guessing_many_usernames_is_throttled(client, staff_a, settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 20
    usernames = [f"guess{n}" for n in range(15)] + ["staff_a"]
    statuses = [
        fail(client, username, 1, address="203.0.113.77")[0].status_code for _ in range(4) for username in usernames
    ]
    assert len(statuses) == 64
    assert statuses[:19] == [200] * 19
    assert set(statuses[19:]) == {429}
    # The user signs in from elsewhere: four failures on the username do not lock it,
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 302
    client.post("/accounts/logout/")
    # but the right password from the throttled address is refused while the throttle lasts.
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.77")
    assert response.status_code == 429


def test_a_success_does_not_clear_the_address_count_of_other_usernames(client, staff_a, staff_b):
    for n in range(4):
        fail(client, "staff_b", 1, address=f"198.51.100.{n + 1}")
    fail(client, "staff_a", 1)
    client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="198.51.100.1")
    client.post("/accounts/logout/")
    # staff_b's four failures still count: the fifth locks.
    assert fail(client, "staff_b", 1, address="198.51.100.2")[0].status_code == 429


def test_the_reset_command_lets_a_locked_user_back_in(client, staff_a):
    from django.core.management import call_command

    fail(client, "staff_a", 5)
    call_command("axes_reset_username", "staff_a", verbosity=0)
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 302


def test_the_lockout_page_does_not_reveal_whether_the_username_exists(client, staff_a):
    known = fail(client, "staff_a", 5)[-1]
    unknown = fail(client, "nobody_here", 5)[-1]
    assert known.status_code == unknown.status_code == 429
    assert visible(known) == visible(unknown)
    assert "staff_a" not in visible(known)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, staff_a):
    known = visible(fail(client, "staff_a", 1)[0])
    unknown = visible(fail(client, "nobody_here", 1)[0])
    assert known.replace("staff_a", "X") == unknown.replace("nobody_here", "X")


def test_the_lock_ends_after_the_cool_off(client, staff_a, settings):
    fail(client, "staff_a", 5)
    failures = AccessFailureLog.objects.filter(username="staff_a")
    assert failures.filter(locked_out=True).count() == 1
    # Moving the attempts back past the fifteen-minute cool-off releases the lock.
    from axes.models import AccessAttempt
    from django.utils import timezone

    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=16))
    response = client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 302


def test_every_event_reaches_the_login_log(client, staff_a, register_a):
    from django.core.management import call_command

    fail(client, "staff_a", 5)
    call_command("axes_reset_username", "staff_a", verbosity=0)
    client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.8")
    client.post("/accounts/logout/")
    events = list(login_list(register=register_a))
    kinds = [e["event"] for e in events]
    assert kinds.count(LoginKind.FAILURE) == 4
    assert kinds.count(LoginKind.LOCKOUT) == 1
    assert kinds.count(LoginKind.LOGIN) == 1
    assert kinds.count(LoginKind.LOGOUT) == 1
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    login = next(e for e in events if e["event"] == LoginKind.LOGIN)
    assert login["ip_address"] == "203.0.113.8"
    assert AccessLog.objects.get().logout_time is not None


def test_the_login_log_filters_by_kind_user_and_time(client, staff_a, register_a):
    fail(client, "staff_a", 2)
    client.post(LOGIN, {"username": "staff_a", "password": DEFAULT_PASSWORD})
    assert {e["event"] for e in login_list(register=register_a, kind=LoginKind.FAILURE)} == {LoginKind.FAILURE}
    assert not login_list(register=register_a, kind=LoginKind.LOCKOUT).exists()
    assert not login_list(register=register_a, username="someone_else").exists()
    import datetime

    assert not login_list(register=register_a, since=datetime.date(2099, 1, 1)).exists()
    assert login_list(register=None, kind=LoginKind.LOGIN).count() == 1
