"""The read replica's router (registers.replica): what may be read there, pinning after a write, and fallback.

The "replica" is a second connection object on the test's own database connection, so that it reads what the test
wrote without committing it (a committed test costs seconds of flush on PostgreSQL); on PostgreSQL its reads can
also run as a role that may only SELECT, as a hot standby answers. A replica that is down is an address nothing
listens on (or an SQLite file that cannot be opened).
"""

import contextlib
import time
import types
import uuid

import pytest
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, ProgrammingError, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from psycopg import sql

from crm.models import Customer
from registers import replica
from registers.models import Register
from registers.selectors import register_get_for_owner

from ..databases import database_alias, free_port
from ..factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _replica_up(monkeypatch):
    # The process remembers a failed replica (REPLICA_RETRY_SECONDS): each test starts with it up, and forgets after.
    monkeypatch.setattr(replica, "_down_until", 0.0)


@pytest.fixture
def replica_db():
    with database_alias(replica.REPLICA, shared=True) as connection:
        yield connection


@pytest.fixture
def unreachable_replica():
    """A replica that refuses connections: a loopback port nothing listens on, or an SQLite file that cannot be."""
    if connections["default"].vendor == "postgresql":
        changes = {"HOST": "127.0.0.1", "PORT": str(free_port())}
    else:
        changes = {"NAME": "/nonexistent/replica/db.sqlite3"}
    with database_alias(replica.REPLICA, **changes) as connection:
        yield connection


def tables(captured) -> str:
    return " ".join(query["sql"] for query in captured.captured_queries)


# Models whose rows decide who may see or do what: the router's rule by app must cover each of them.
PERMISSION_MODELS = [
    "auth.User",
    "auth.Group",
    "auth.Permission",
    "guardian.UserObjectPermission",
    "registers.Register",
    "registers.RegisterUserObjectPermission",
    "registers.RegisterGroupObjectPermission",
    "registers.RoleGroup",
    "registers.Membership",
    "registers.AccessReview",
    "registers.AccessReviewItem",
    "registers.ConfidentialityCommitment",
    "registers.TOTPDevice",
    "sessions.Session",
    "axes.AccessAttempt",
    "otp_static.StaticDevice",
    "api.APIClient",
    "rest_framework_api_key.APIKey",
    "selfservice.IdentityLink",
]


class TestRouter:
    def test_inside_the_mark_a_report_read_goes_to_the_replica(self, replica_db):
        CustomerFactory()
        with (
            CaptureQueriesContext(replica_db) as on_replica,
            CaptureQueriesContext(connections["default"]) as on_primary,
        ):
            with replica.replica_reads():
                assert Customer.objects.count() == 1
            assert Customer.objects.count() == 1
        assert "crm_customer" in tables(on_replica)
        assert len(on_replica.captured_queries) == 1, "only the marked read goes there"
        assert len(on_primary.captured_queries) == 1

    @pytest.mark.parametrize("label", PERMISSION_MODELS)
    def test_the_permission_models_are_never_read_from_the_replica(self, replica_db, label):
        model = apps.get_model(label)
        with replica.replica_reads():
            assert replica.ReplicaRouter().db_for_read(model) == replica.PRIMARY
            # ... while a report model, asked in the same moment, would go there.
            assert replica.ReplicaRouter().db_for_read(Customer) == replica.REPLICA

    def test_every_model_of_the_permission_apps_reads_the_primary(self, replica_db):
        models = [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in replica.PRIMARY_APPS]
        assert len(models) > 30
        with replica.replica_reads():
            assert {replica.ReplicaRouter().db_for_read(model) for model in models} == {replica.PRIMARY}

    def test_the_check_guarding_a_report_runs_on_the_primary(self, replica_db, owner_a, register_a):
        with CaptureQueriesContext(replica_db) as on_replica, replica.replica_reads():
            assert register_get_for_owner(user=owner_a, slug=register_a.slug) == register_a
        assert on_replica.captured_queries == []

    def test_an_object_read_from_the_replica_reads_its_relations_on_the_primary(self, replica_db):
        CustomerFactory()
        with replica.replica_reads():
            customer = Customer.objects.get()
        assert customer._state.db == replica.REPLICA
        with CaptureQueriesContext(replica_db) as on_replica:
            assert customer.register.pk  # a permission model, and outside the mark
        assert on_replica.captured_queries == []

    def test_a_write_inside_the_mark_goes_to_the_primary_and_pins_the_rest(self, replica_db):
        with CaptureQueriesContext(replica_db) as on_replica, replica.replica_reads():
            Customer.objects.count()
            CustomerFactory()
            assert Customer.objects.count() == 1  # the replica might not have it yet
        assert len(on_replica.captured_queries) == 1
        assert "INSERT" not in tables(on_replica)

    def test_a_raw_sql_write_pins_as_well(self, replica_db):
        customer = CustomerFactory()
        with CaptureQueriesContext(replica_db) as on_replica, replica.replica_reads():
            with connections["default"].cursor() as cursor:
                cursor.execute("UPDATE crm_customer SET city = %s WHERE id = %s", ["Oulu", customer.pk])
            Customer.objects.count()
        assert on_replica.captured_queries == []

    def test_a_read_inside_a_transaction_stays_on_the_primary(self, replica_db):
        with CaptureQueriesContext(replica_db) as on_replica, transaction.atomic(), replica.replica_reads():
            Customer.objects.count()
        assert on_replica.captured_queries == []

    def test_without_a_replica_marked_reads_use_the_primary(self):
        assert not replica.configured()
        with replica.replica_reads():
            assert replica.ReplicaRouter().db_for_read(Customer) == replica.PRIMARY
            assert replica.replica_alias() == replica.PRIMARY

    def test_writes_and_migrations_belong_to_the_primary(self, replica_db):
        router = replica.ReplicaRouter()
        with replica.replica_reads():
            assert router.db_for_write(Customer) == replica.PRIMARY
        assert router.allow_migrate(replica.REPLICA, "crm") is False
        assert router.allow_migrate(replica.PRIMARY, "crm") is None
        customer, register = Customer(), Register()
        customer._state.db, register._state.db = replica.REPLICA, replica.PRIMARY
        assert router.allow_relation(customer, register) is True


def report_view(request):
    """A view that may write (`?write=1`) and then reads a report."""
    if request.GET.get("write"):
        CustomerFactory()
    with replica.replica_reads():
        return HttpResponse(str(Customer.objects.count()))


class Browser:
    """Requests of one signed-in user through ReplicaPinMiddleware, sharing a session as a browser's cookie would."""

    def __init__(self, user):
        self.user, self.session = user, SessionStore()
        self.session.create()  # as signing in does

    def get(self, query=""):
        request = RequestFactory().get("/report/" + query)
        request.user, request.session = self.user, self.session
        response = replica.ReplicaPinMiddleware(report_view)(request)
        self.session.save()
        return response


class TestPinning:
    def test_a_request_that_wrote_reads_the_primary_after_the_write(self, replica_db, staff_a):
        with CaptureQueriesContext(replica_db) as on_replica:
            response = Browser(staff_a).get("?write=1")
        assert response.content == b"1"
        assert on_replica.captured_queries == []

    def test_a_request_that_did_not_write_reads_the_replica(self, replica_db, staff_a):
        with CaptureQueriesContext(replica_db) as on_replica:
            Browser(staff_a).get()
        assert "crm_customer" in tables(on_replica)

    def test_a_request_without_a_session_gets_no_session_for_its_pin(self, replica_db, staff_a):
        """An API client's write: the pin holds for its request only."""
        request = RequestFactory().get("/report/?write=1")
        request.user, request.session = staff_a, SessionStore()
        replica.ReplicaPinMiddleware(report_view)(request)
        assert replica.PIN_SESSION_KEY not in request.session

    def test_the_pin_holds_for_the_sessions_next_requests_and_then_ends(
        self, replica_db, staff_a, monkeypatch, settings
    ):
        settings.REPLICA_PIN_SECONDS = 10
        browser = Browser(staff_a)
        browser.get("?write=1")
        with CaptureQueriesContext(replica_db) as on_replica:
            assert browser.get().content == b"1"
            assert Browser(staff_a).get().content == b"1"  # another session of the same user is not pinned
        assert len(on_replica.captured_queries) == 1
        # Eleven seconds on (the wall clock, which every machine shares).
        later = types.SimpleNamespace(time=lambda: time.time() + 11, monotonic=time.monotonic)
        monkeypatch.setattr(replica, "time", later)
        with CaptureQueriesContext(replica_db) as on_replica:
            browser.get()
        assert "crm_customer" in tables(on_replica)


class TestFallback:
    def test_a_report_view_answers_from_the_primary_when_the_replica_is_down(
        self, unreachable_replica, client, owner_a, register_a
    ):
        CustomerFactory(register=register_a)
        client.force_login(owner_a)
        url = reverse("statistics:register", kwargs={"slug": register_a.slug})
        assert client.get(url).status_code == 200
        assert replica.is_down()
        # Meanwhile nothing tries the replica: neither the router nor an export's choice.
        assert client.get(url).status_code == 200
        assert unreachable_replica.connection is None
        assert replica.replica_alias() == replica.PRIMARY

    def test_a_streamed_export_reads_the_primary_when_the_replica_is_down(
        self, unreachable_replica, client, staff_a, register_a
    ):
        CustomerFactory(register=register_a, organisation_name="Varakone Oy")
        client.force_login(staff_a)
        response = client.get(reverse("crm:customer-export", kwargs={"register": register_a.slug}))
        assert response.status_code == 200
        assert "Varakone Oy" in b"".join(response.streaming_content).decode()
        assert replica.is_down()

    def test_the_replica_is_tried_again_after_the_retry_time(self, unreachable_replica, monkeypatch, settings):
        settings.REPLICA_RETRY_SECONDS = 30
        assert replica.replica_alias() == replica.PRIMARY
        later = types.SimpleNamespace(time=time.time, monotonic=lambda: time.monotonic() + 31)
        monkeypatch.setattr(replica, "time", later)
        assert not replica.is_down()

    @pytest.mark.postgres
    def test_a_replica_that_dies_during_a_report_is_left_for_the_primary(self, client, owner_a, register_a):
        CustomerFactory(register=register_a)
        client.force_login(owner_a)

        def terminate_before_the_first_report_query(execute, statement, params, many, context):
            if not replica.is_down() and "crm_customer" in statement:
                with connections["default"].cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(%s, 5000)", [context["connection"].connection.info.backend_pid]
                    )
            return execute(statement, params, many, context)

        # A connection of its own, to be killed: the view has opened it and passed its first check.
        with (
            database_alias(replica.REPLICA) as replica_db,
            replica_db.execute_wrapper(terminate_before_the_first_report_query),
        ):
            response = client.get(reverse("statistics:register", kwargs={"slug": register_a.slug}))
        assert response.status_code == 200
        assert replica.is_down()

    @pytest.mark.postgres
    def test_a_replica_that_stops_after_the_first_check_is_left_for_the_primary(self, staff_a):
        """The replica answered the up-front check and was gone by the view's first query: Django's reconnect fails,
        outside the statement wrapper (the multi-node run's replica stop found this)."""
        CustomerFactory()
        request = RequestFactory().get("/report/")
        request.user = staff_a
        with database_alias(replica.REPLICA) as replica_db:
            address = replica_db.settings_dict["PORT"]

            @replica.reads_from_replica
            def report(request):
                if not replica.is_down():
                    replica_db.close()
                    replica_db.settings_dict["PORT"] = str(free_port())
                return HttpResponse(str(Customer.objects.count()))

            try:
                assert report(request).content == b"1"
            finally:
                replica_db.settings_dict["PORT"] = address
        assert replica.is_down()


def fail_on_the_replica(execute, statement, params, many, context):
    raise OperationalError("the replica went away")


@replica.reads_from_replica
def export_view(request):
    """A report that picks the replica, logs itself (a write) as an export does, then reads."""
    alias = replica.replica_alias()
    if request.GET.get("write"):
        CustomerFactory()
    with (
        connections[alias].execute_wrapper(fail_on_the_replica)
        if alias == replica.REPLICA
        else contextlib.nullcontext()
    ):
        return HttpResponse(str(Customer.objects.using(alias).count()))


class TestRerunOnThePrimary:
    def test_a_report_whose_replica_fails_runs_again_on_the_primary(self, replica_db, staff_a):
        CustomerFactory()
        request = RequestFactory().get("/export/")
        request.user = staff_a
        assert export_view(request).content == b"1"
        assert replica.is_down()

    def test_a_report_that_wrote_before_the_replica_failed_is_not_run_twice(self, replica_db, staff_a):
        request = RequestFactory().get("/export/?write=1")
        request.user = staff_a
        with pytest.raises(OperationalError):
            replica.ReplicaPinMiddleware(export_view)(request)
        assert Customer.objects.count() == 1


@pytest.fixture
def read_only_replica(replica_db):
    """Run the replica's statements as a role that may only SELECT, as a hot standby (Saleor's local set-up).

    The role is made inside the test's transaction and goes with it.
    """
    role = sql.Identifier(f"replica_test_{uuid.uuid4().hex[:12]}")
    with connections["default"].cursor() as cursor:
        cursor.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        cursor.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(role))

    def as_reader(execute, statement, params, many, context):
        session = context["connection"].connection
        session.execute(sql.SQL("SET ROLE {}").format(role))
        result = execute(statement, params, many, context)
        # A failed statement leaves the role set: the savepoint around it rolls the SET back with it.
        session.execute("RESET ROLE")
        return result

    with replica_db.execute_wrapper(as_reader):
        yield replica_db


@pytest.mark.postgres
class TestReadOnlyReplica:
    def test_the_reports_and_exports_work_through_a_login_that_may_only_read(
        self, read_only_replica, client, owner_a, register_a
    ):
        CustomerFactory(register=register_a, organisation_name="Lukija Oy")
        client.force_login(owner_a)
        with CaptureQueriesContext(read_only_replica) as on_replica:
            statistics = client.get(reverse("statistics:register", kwargs={"slug": register_a.slug}))
            changes = client.get(reverse("registers:audit-changes", kwargs={"register": register_a.slug}))
            export = client.get(reverse("crm:customer-export", kwargs={"register": register_a.slug}))
            exported = b"".join(export.streaming_content).decode()
        assert (statistics.status_code, changes.status_code, export.status_code) == (200, 200, 200)
        assert "Lukija Oy" in exported
        read = tables(on_replica)
        assert "crm_customer" in read
        assert "auditlog_logentry" in read
        assert "guardian" not in read
        assert "registers_" not in read
        assert not replica.is_down()

    def test_a_write_inside_the_mark_is_sent_to_the_primary(self, read_only_replica, register_a):
        customer = CustomerFactory(register=register_a)
        with replica.replica_reads():
            customer.city = "Kemi"
            customer.save()
        assert Customer.objects.get(pk=customer.pk).city == "Kemi"
        # Had it gone to the replica, it would have failed loudly.
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            Customer.objects.using(replica.REPLICA).filter(pk=customer.pk).update(city="Oulu")
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (connections["default"].settings_dict["USER"],)
