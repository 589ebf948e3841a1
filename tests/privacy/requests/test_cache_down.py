"""The cache (Redis) down: the public form, staff sign-in and its lock-out, pages behind permissions and the API
go on without it, as settings.py configures the cache in production (django-redis, IGNORE_EXCEPTIONS)."""

import socket

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from privacy.requests.models import DataSubjectRequest
from privacy.requests.ratelimit import rate_limit_exceeded

from ...api.factories import READ, KeyClient, api_client
from ...factories import DEFAULT_PASSWORD, CustomerFactory
from .test_views_public import form_data, form_url

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
        }
    }
    # The cache really is the unreachable Redis, and answers like a cache that misses.
    assert cache.add("probe", 1) is None
    assert cache.get("probe") is None


def test_the_public_form_is_stored(public_client, register_a, settings):
    settings.PRIVACY_RATE_LIMITS = {"ip": (1, 3600), "email": (1, 3600)}
    assert not any(rate_limit_exceeded(scope="ip", value="10.0.0.1") for _ in range(3))
    response = public_client.post(form_url(register_a), form_data(register_a))
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:request-sent")
    assert DataSubjectRequest.objects.count() == 1


def test_staff_sign_in_and_its_lock_out_use_the_database(staff_a, settings):
    settings.AXES_FAILURE_LIMIT = 2
    wrong = Client(REMOTE_ADDR="10.9.8.7")
    for _ in range(2):
        wrong.post("/accounts/login/", {"username": "staff_a", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="staff_a").exists()
    locked = wrong.post("/accounts/login/", {"username": "staff_a", "password": DEFAULT_PASSWORD})
    assert "_auth_user_id" not in wrong.session
    assert locked.status_code == 429

    AccessAttempt.objects.all().delete()
    right = Client(REMOTE_ADDR="10.9.8.6")
    response = right.post("/accounts/login/", {"username": "staff_a", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert right.session["_auth_user_id"] == str(staff_a.pk)


def test_pages_answer_by_the_users_rights(client, register_a, staff_a, readonly_a, staff_b):
    customer = CustomerFactory(register=register_a)
    kwargs = {"register": register_a.slug, "code": customer.code}
    detail, update = reverse("crm:customer-detail", kwargs=kwargs), reverse("crm:customer-update", kwargs=kwargs)
    client.force_login(staff_a)
    assert client.get(detail).status_code == 200
    client.force_login(readonly_a)
    assert client.get(detail).status_code == 200
    assert client.post(update, {}).status_code == 403
    client.force_login(staff_b)
    assert client.get(detail).status_code == 404


def test_the_api_throttle_lets_calls_through(register_a):
    _client, key = api_client({register_a: READ}, rate_per_minute=1)
    caller = KeyClient(key)
    assert [caller.get("/api/v1/registers/").status_code for _ in range(3)] == [200, 200, 200]
