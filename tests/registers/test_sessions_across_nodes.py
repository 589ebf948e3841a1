"""Sign-in state lives in the database, never in one web node's memory (issue 23): a session made on one node
works on another, signing out on either ends it on both, and a username locked on one node is locked on all.

A `Node` stands for one web node behind the load balancer: its requests are served with an in-memory cache of its
own, as another process's would be, and the database every node shares."""

import uuid

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from ..factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


class Node:
    def __init__(self, *, address: str = "127.0.0.1"):
        self.client = Client(REMOTE_ADDR=address)
        location = f"node-{uuid.uuid4().hex}"
        self._caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location}}

    def get(self, path):
        with override_settings(CACHES=self._caches):
            return self.client.get(path)

    def post(self, path, data=None):
        with override_settings(CACHES=self._caches):
            return self.client.post(path, data)

    def sign_in(self, username: str, password: str = DEFAULT_PASSWORD):
        return self.post(LOGIN, {"username": username, "password": password})

    @property
    def session_cookie(self) -> str:
        return self.client.cookies[settings.SESSION_COOKIE_NAME].value

    @session_cookie.setter
    def session_cookie(self, value: str) -> None:
        self.client.cookies[settings.SESSION_COOKIE_NAME] = value


def test_sessions_are_kept_in_the_database():
    # A per-process store (a local-memory cache) would sign a user out whenever the balancer picks another node.
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_a_session_made_on_one_node_works_on_another_and_a_sign_out_ends_it_on_both(staff_a, register_a):
    node_a, node_b = Node(), Node()
    customers = reverse("crm:customer-list", kwargs={"register": register_a.slug})
    assert node_a.sign_in("staff_a").status_code == 302
    node_b.session_cookie = node_a.session_cookie

    assert node_b.get(customers).status_code == 200
    assert node_a.get(customers).status_code == 200

    node_b.post("/accounts/logout/")
    response = node_a.get(customers)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_username_locked_on_one_node_is_locked_on_another(settings, staff_a):
    settings.AXES_FAILURE_LIMIT = 2  # each failure hashes a password: two are enough to lock
    node_a, node_b = Node(address="203.0.113.5"), Node(address="198.51.100.7")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        node_a.sign_in("staff_a", "wrong")

    response = node_b.sign_in("staff_a")

    assert response.status_code == 429
    assert settings.SESSION_COOKIE_NAME not in node_b.client.cookies
