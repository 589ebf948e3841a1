import pytest
from django.conf import settings
from django.core.management import call_command

from registers.models import Role
from registers.services import main_users_group_ensure, membership_grant

from .factories import RegisterFactory, UserFactory


def grant(user, register, role, actor=None):
    """Grant a role as a main user would, through the real service."""
    actor = actor or UserFactory(username="grantor", is_superuser=True)
    membership = membership_grant(actor=actor, user=user, register=register, role=role, reason="test")
    # Guardian caches permissions on the instance; tests use fresh users.
    return membership


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    # Production serves hashed static files from a manifest; tests run the same
    # storage, so the manifest must exist (the test script builds it first).
    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture
def main_user(db):
    user = UserFactory(username="main_user", is_staff=True)
    user.groups.add(main_users_group_ensure())
    return user


@pytest.fixture
def register_a(db):
    return RegisterFactory(slug="register-a", name_fi="Rekisteri A")


@pytest.fixture
def register_b(db):
    return RegisterFactory(slug="register-b", name_fi="Rekisteri B")


@pytest.fixture
def owner_a(register_a):
    user = UserFactory(username="owner_a")
    grant(user, register_a, Role.OWNER)
    return user


@pytest.fixture
def handler_a(register_a):
    user = UserFactory(username="handler_a")
    grant(user, register_a, Role.HANDLER)
    return user


@pytest.fixture
def staff_a(register_a):
    user = UserFactory(username="staff_a")
    grant(user, register_a, Role.STAFF)
    return user


@pytest.fixture
def readonly_a(register_a):
    user = UserFactory(username="readonly_a")
    grant(user, register_a, Role.CONTACT_CENTRE_EXPERT)
    return user


@pytest.fixture
def staff_b(register_b):
    user = UserFactory(username="staff_b")
    grant(user, register_b, Role.STAFF)
    return user
