"""Integration clients for the API tests, made through the real service as a main user would."""

import datetime

from django.test import Client
from django.utils import timezone

from api.services import api_client_create
from registers.models import Role
from registers.services import main_users_group_ensure

from ..factories import UserFactory

READ, WRITE, KEEPER = Role.API_READ, Role.API_WRITE, Role.API_KEEPER


def main_user():
    user = UserFactory(username="api-main")
    user.groups.add(main_users_group_ensure())
    return user


def api_client(scopes: dict, *, name: str = "Tapahtumakalenteri", **kwargs):
    """Return (client, key) with `scopes` ({register: READ | WRITE | KEEPER})."""
    actor = main_user()
    kwargs.setdefault("expires_on", timezone.localdate() + datetime.timedelta(days=90))
    return api_client_create(actor=actor, name=name, owner=actor, scopes=scopes, **kwargs)


class KeyClient(Client):
    """A test client that sends the key on every call, and JSON bodies by default."""

    def __init__(self, key: str | None, **defaults):
        if key is not None:
            defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
        super().__init__(**defaults)

    def _json(self, method, path, data=None, **extra):
        return getattr(super(), method)(path, data=data, content_type="application/json", **extra)

    def post(self, path, data=None, **extra):
        return self._json("post", path, data, **extra)

    def put(self, path, data=None, **extra):
        return self._json("put", path, data, **extra)

    def patch(self, path, data=None, **extra):
        return self._json("patch", path, data, **extra)


def key_client(scopes: dict, **kwargs) -> KeyClient:
    _client, key = api_client(scopes, **kwargs)
    return KeyClient(key)
