"""/healthz and /readyz: what the load balancer and the platform's readiness gate ask of every node."""

import json
import time

import pytest
from django.core.cache.backends.base import BaseCache
from django.test import Client

from registers import accounts
from registers.models import Role

from ..conftest import grant
from ..factories import UserFactory


class UnusableCache(BaseCache):
    """A cache that fails the test if anything touches it."""

    def __init__(self, *args, **kwargs):
        super().__init__({})

    def __getattribute__(self, name):
        if name in {"add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "clear"}:
            raise AssertionError(f"the cache was used: {name}")
        return super().__getattribute__(name)


# No `db` fixture: pytest-django refuses every database query in this test, so a query anywhere in the request
# (a middleware, the view) would fail it.
def test_healthz_answers_ok_without_the_database_or_the_cache(settings):
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.UnusableCache"}}
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.django_db
def test_the_probes_set_no_cookie_and_are_never_stored(path, broker_in_memory):
    response = Client().get(path)
    assert response.status_code == 200
    assert response.cookies == {}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.django_db
def test_the_probes_answer_head_and_refuse_other_methods(path, broker_in_memory):
    client = Client()
    assert client.head(path).status_code == 200
    for method in (client.post, client.put, client.delete):
        assert method(path).status_code == 405


@pytest.mark.django_db
def test_the_probes_answer_over_plain_http_when_https_is_required(settings, broker_in_memory):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new handler, whose SecurityMiddleware reads the setting
    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_a_signed_in_user_with_a_pending_commitment_is_not_sent_to_sign_it(client, register_a, main_user):
    # A person who opens the address in a browser, signed in, is not a probe; the gate still lets them through.
    user = UserFactory()
    grant(user, register_a, Role.STAFF)
    accounts.commitment_publish(
        actor=main_user, organisation=register_a.organisation, text_fi="Sitoudun.", text_sv="Jag.", text_en="I do."
    )
    client.force_login(user)
    assert client.get("/").status_code == 302  # the gate is on
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_lists_each_check_when_all_pass(broker_in_memory):
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        # Tasks run in the process: there is no broker to reach.
        "checks": {"database": "ok", "cache": "ok", "broker": "skipped"},
    }


@pytest.mark.django_db
def test_readyz_reaches_a_redis_broker(redis_broker):
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_names_a_broker_that_does_not_answer_and_answers_quickly(broker_down):
    started = time.monotonic()
    response = Client().get("/readyz")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "cache": "ok", "broker": "failing"},
        "failing": ["broker"],
    }


@pytest.mark.django_db
def test_readyz_names_a_cache_that_loses_what_is_written(settings, broker_in_memory):
    # The production cache: Redis that ignores its own errors. Down, it neither stores nor complains.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


def test_readyz_names_a_database_that_cannot_be_reached(broker_in_memory):
    # No `db` fixture: the database refuses every connection, as one that is down does.
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["failing"] == ["database"]
    assert body["checks"]["cache"] == "ok"
