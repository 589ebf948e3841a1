import os
import tempfile
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from registers.models import Role
from registers.services import main_users_group_ensure, membership_grant
from registers.totp import TOTPDevice

from .factories import RegisterFactory, UserFactory


def pytest_configure(config):
    # Anchors of the audit chain go to this process's own directory, never the checkout's var/ (and each test has
    # its own, _own_anchor_and_ledger_files).
    settings.AUDIT_ANCHOR_DIR = tempfile.mkdtemp(prefix="audit-anchors-")
    settings.ERASURE_LEDGER_DIR = tempfile.mkdtemp(prefix="erasure-ledger-")
    # The test client builds a new handler, so a new WhiteNoise, for every Client: scanning the 1,250 collected files
    # each time took a fifth of a second per client. Looked up per request instead, as in development.
    settings.WHITENOISE_AUTOREFRESH = True
    # Durability is not under test here (bench/faults.py restarts a real server for that): commits need not wait
    # for the disk, whose waits on a shared machine were a good part of the suite's time on PostgreSQL.
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"


@pytest.fixture(autouse=True)
def _own_anchor_and_ledger_files():
    """Each test's anchors and erasure ledger start empty, as its database does.

    The database is rolled back after a test, the files beside it are not: an anchor an earlier test wrote names
    links that this test's chain lacks (on PostgreSQL, whose sequences are not rolled back, it names their numbers).
    """
    kept = settings.AUDIT_ANCHOR_DIR, settings.ERASURE_LEDGER_DIR
    with tempfile.TemporaryDirectory(prefix="audit-files-") as folder:
        settings.AUDIT_ANCHOR_DIR = os.path.join(folder, "anchors")
        settings.ERASURE_LEDGER_DIR = os.path.join(folder, "erasure-ledger")
        yield
    settings.AUDIT_ANCHOR_DIR, settings.ERASURE_LEDGER_DIR = kept


_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "_django_db_helper", "live_server", "django_db_reset_sequences"}
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that wrote to the database: what it wrote to the audit trail verifies (registers.audit_chain).

    So a write of an audit entry, a login, a request event or a purge run past the chain (a bulk_create or an
    UPDATE without its link) fails the test that made it, whichever test that is. Only the test's own writes are
    checked (`verify_since`): a full `audit_verify` per test tripled the suite's time on PostgreSQL.
    """
    checked = _DATABASE_FIXTURES.intersection(item.fixturenames) and not item.get_closest_marker("audit_chain_tampered")
    if checked:
        from registers import audit_chain

        marks = audit_chain.verify_marks()
    result = yield
    if checked:
        broken = audit_chain.verify_since(marks)
        assert not broken, "The audit trail no longer verifies:\n" + "\n".join(broken)
    return result


def pytest_collection_modifyitems(config, items):
    # SQLite has no row or advisory locks and its shared in-memory test database answers parallel
    # writers with "database table is locked": such tests prove nothing there, so they are skipped
    # by name (the summary prints the reason), and CI runs them on PostgreSQL.
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL's concurrency (set DATABASE_URL=postgres://...; CI does)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def grant(user, register, role, actor=None):
    """Grant a role as a main user would, through the real service."""
    actor = actor or UserFactory(username="grantor", is_superuser=True)
    membership = membership_grant(actor=actor, user=user, register=register, role=role, reason="test")
    # Guardian caches permissions on the instance; tests use fresh users.
    return membership


def verified_device(user) -> TOTPDevice:
    """Return the user's confirmed authenticator, creating one as the set-up page would."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "test"})
    return device


class TwoFactorClient(Client):
    """A test client whose force_login also passes the second factor for roles that require it.

    Tests of the two-factor gate itself use `plain_client`.
    """

    def force_login(self, user, backend=None):
        from registers.two_factor import user_requires_two_factor

        super().force_login(user, backend)
        if user_requires_two_factor(user):
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = verified_device(user).persistent_id
            session.save()


@pytest.fixture
def client():
    return TwoFactorClient()


@pytest.fixture
def plain_client():
    return Client()


@pytest.fixture
def admin_client(db, admin_user):
    client = TwoFactorClient()
    client.force_login(admin_user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _purge_lock_of_this_test_process(worker_id):
    """Each test process purges its own database, so it takes a purge lock of its own in the shared Redis (and
    so do the Celery workers it starts, which inherit the environment): otherwise a purge worker test on one
    test process would make an in-process purge on another skip its run as busy."""
    name = f"rekisteri:retention-purge:test-{worker_id}-{os.getpid()}"
    os.environ["PURGE_LOCK_NAME"] = name
    settings.PURGE_LOCK_NAME = name


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


@pytest.fixture
def private_cache(settings):
    """Give the test a cache of its own, empty: clearing the shared one (Redis in CI) would wipe what the
    other test workers keep there, such as the public form's rate-limit counters."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(uuid.uuid4())}
    }
    cache.clear()
    return cache


@pytest.fixture
def celery_eager():
    """Run tasks in the test process, with Redis configured (CI) as without it (their e-mails land in mail.outbox)."""
    from config.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
