"""The optional read replica (DATABASE_REPLICA_URL): which reads go there, and when a request stays on the primary.

A streaming replica answers a moment late, so only reads that are fine a moment late go there, and only where a
view marks them: reports, statistics and exports. Everything else reads the primary, as without a replica:

    @replica.reads_from_replica              # a report view; re-run on the primary if the replica fails
    def statistics_view(request, slug): ...

    alias = replica.replica_alias()          # a streamed export picks its database once, up front
    rows = exports.customer_values(customers, columns).using(alias)

Inside a mark the router still sends a read to the primary when

- the model is one of the permission apps (`PRIMARY_APPS`): a role, grant, membership, access review, account,
  session, login attempt or API key is never read late, so the check that guards a report runs on the primary;
- the request (or its session, for `REPLICA_PIN_SECONDS`) wrote: its user expects to see the write;
- the read is inside a transaction on the primary: it must see the transaction's own writes;
- the replica failed a moment ago (`REPLICA_RETRY_SECONDS`), or there is no replica.

The router sees only the model a query reads, not what it joins: mark only reads whose rows are already scoped by a
right read on the primary (a register the user may read). A query whose SQL joins a permission relation of its own
stays unmarked.
"""

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = DEFAULT_DB_ALIAS
# Apps whose models decide who may see or do what: they are read on the primary even inside a mark. A rule by app,
# so that a role or review model added later is covered without being listed.
PRIMARY_APPS = frozenset(
    {
        "admin",
        "api",  # API clients and their scopes
        "auth",
        "axes",  # login attempts and lockouts
        "contenttypes",
        "django_celery_beat",
        "guardian",
        "otp_static",
        "registers",  # registers, roles, memberships, grants, commitments, access reviews, devices, the audit chain
        "rest_framework_api_key",
        "selfservice",  # which data subject a signed-in person is
        "sessions",
    }
)
# The key of the session that keeps reading the primary after a write: a time (seconds since 1970) until which it does.
PIN_SESSION_KEY = "rekisteri_primary_until"
# What a replica that is down, unreachable or cancelling queries raises.
REPLICA_ERRORS = (OperationalError, InterfaceError)
# Statements that change nothing. Anything else on the primary (INSERT, UPDATE, DELETE, COPY, a raw WITH, ...) pins.
READ_ONLY_STATEMENTS = frozenset({"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET", "SHOW", "EXPLAIN", "PRAGMA"})
GET_METHODS = frozenset({"GET", "HEAD"})

T = TypeVar("T")


@dataclass
class _Pin:
    """What one request (or one mark outside a request, in a task) did on the primary."""

    pinned: bool = False
    wrote: bool = False


@dataclass
class _Mark:
    """One marked block: its reads may go to the replica; `replica_failed` once a replica query raised."""

    replica_failed: bool = False


_pin: ContextVar[_Pin | None] = ContextVar("replica_pin", default=None)
_mark: ContextVar[_Mark | None] = ContextVar("replica_mark", default=None)
# Per process: each worker finds out on its own, at the cost of one failed connection attempt.
_down_until = 0.0


def configured() -> bool:
    return REPLICA in settings.DATABASES


def is_down() -> bool:
    return time.monotonic() < _down_until


def mark_down() -> None:
    """Send this process's marked reads to the primary for REPLICA_RETRY_SECONDS."""
    global _down_until
    _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    logger.warning("The read replica failed; reports read the primary for %s s", settings.REPLICA_RETRY_SECONDS)
    # The failed connection is of no further use; a later attempt opens a new one.
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


def _in_transaction() -> bool:
    """Tell whether the code runs inside a transaction on the primary, whose own writes its reads must see."""
    primary = connections[PRIMARY]
    # Django's TestCase wraps each test in a transaction of its own, marked as its `durable` check knows it: that
    # one belongs to no code under test.
    return primary.in_atomic_block and not all(getattr(b, "_from_testcase", False) for b in primary.atomic_blocks)


def _replica_allowed() -> bool:
    """Tell whether a marked read may go to the replica now (whatever its model)."""
    pin = _pin.get()
    return configured() and not (pin is not None and pin.pinned) and not _in_transaction() and not is_down()


def reads_primary(model) -> bool:
    """Tell whether a model is read on the primary always: a model of the permission apps (`PRIMARY_APPS`)."""
    return model._meta.app_label in PRIMARY_APPS or model._meta.concrete_model._meta.app_label in PRIMARY_APPS


class ReplicaRouter:
    """Reads inside a mark go to the replica when `_replica_allowed`; every other read and every write to the primary.

    The primary is named rather than left to Django (None): an object read from the replica would otherwise take its
    related reads there too, outside the mark and for the permission apps as well.
    """

    def db_for_read(self, model, **hints):
        if _mark.get() is not None and not reads_primary(model) and _replica_allowed():
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: a customer read there may point at a register read on the primary.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema through replication.
        return False if db == REPLICA else None


def _statement_writes(sql, context) -> bool:
    if not isinstance(sql, str):
        # A psycopg sql.Composed (raw SQL built safely): its text needs the connection.
        try:
            sql = sql.as_string(context["connection"].connection)
        except Exception:  # Unknown: count it as a write, which only costs a replica read.
            return True
    words = sql.lstrip("( \t\r\n").split(None, 1)
    return not words or words[0].upper() not in READ_ONLY_STATEMENTS


def _watch_writes(pin: _Pin):
    def watch(execute, sql, params, many, context):
        if not pin.wrote and _statement_writes(sql, context):
            pin.wrote = pin.pinned = True
        return execute(sql, params, many, context)

    return watch


def _flag_failures(mark: _Mark):
    def flag(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except REPLICA_ERRORS:
            mark.replica_failed = True
            raise

    return flag


def _connect() -> bool:
    """Open the replica's connection, or mark it down: a stopped replica costs one refused connection per process."""
    try:
        connections[REPLICA].ensure_connection()
    except REPLICA_ERRORS:
        mark_down()
        return False
    return True


@contextlib.contextmanager
def replica_reads(*, connect: bool = False) -> Iterator[_Mark]:
    """Mark the block's reads as reports: the router may send them to the replica (see the module's rules).

    `connect` opens the replica's connection first, so that a replica that is down is found before any read (and
    the block then reads the primary) rather than by the block's first report query.
    """
    mark = _Mark()
    with contextlib.ExitStack() as stack:
        if _pin.get() is None:
            # Outside a request (a task, a command): writes in the block pin the rest of it.
            pin = _Pin()
            token = _pin.set(pin)
            stack.callback(_pin.reset, token)
            stack.enter_context(connections[PRIMARY].execute_wrapper(_watch_writes(pin)))
        if configured():
            stack.enter_context(connections[REPLICA].execute_wrapper(_flag_failures(mark)))
            if connect and _replica_allowed():
                _connect()
        mark_token = _mark.set(mark)
        stack.callback(_mark.reset, mark_token)
        yield mark


def reads_from_replica(view):
    """Mark a report view's reads for the replica (GET and HEAD only); if the replica fails, answer from the primary.

    A replica that cannot be reached is found before the view runs; one that fails during it is marked down and the
    view runs again on the primary, unless it had already written (an access-log entry), which would be written twice.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in GET_METHODS or not configured():
            return view(request, *args, **kwargs)
        pin = _pin.get()
        wrote_before = pin is not None and pin.wrote
        mark = None
        try:
            with replica_reads(connect=True) as mark:
                return view(request, *args, **kwargs)
        except REPLICA_ERRORS:
            wrote_in_view = pin is not None and pin.wrote and not wrote_before
            if mark is None or not (mark.replica_failed or _replica_broken()) or wrote_in_view:
                raise
            mark_down()
            logger.warning("A report read failed on the replica; answered from the primary", exc_info=True)
            return view(request, *args, **kwargs)

    return wrapped


def _replica_broken() -> bool:
    """Return whether the replica's connection is gone or unusable.

    A replica that stops between the up-front connect and the view's first query fails in Django's reconnect
    (`ensure_connection`), outside the statement wrapper that sets `replica_failed`.
    """
    replica = connections[REPLICA]
    return replica.connection is None or not replica.is_usable()


def replica_alias() -> str:
    """Return the database for a marked read that outlives its view (a streamed export): the replica or the primary.

    Chosen once, up front, with the rules of a mark (a pinned request or a transaction gets the primary) and a
    connection opened to find a replica that is down. The reads then use `.using(alias)`, and
    `read_or_fall_back` moves them to the primary if the replica fails in the middle.
    """
    if _replica_allowed() and _connect():
        return REPLICA
    return PRIMARY


def read_or_fall_back(read: Callable[[str], T], *, using: str) -> T:
    """Return `read(using)`; if `using` is the replica and it fails, mark it down and return `read` of the primary."""
    if using != REPLICA:
        return read(using)
    if is_down():
        return read(PRIMARY)
    try:
        return read(REPLICA)
    except REPLICA_ERRORS:
        mark_down()
        logger.warning("A read failed on the replica; read again from the primary", exc_info=True)
        return read(PRIMARY)


def _session_pinned(request) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return False
    try:
        return float(session.get(PIN_SESSION_KEY, 0)) > time.time()
    except (TypeError, ValueError):
        return False


class ReplicaPinMiddleware:
    """Pin to the primary a request that wrote, and its session's requests for the next REPLICA_PIN_SECONDS.

    A write is any statement on the primary that is not a read (`READ_ONLY_STATEMENTS`), so raw SQL counts as well as
    the ORM. Only the view and the middleware after this one are watched: the session and login bookkeeping of the
    middleware before it is no write its user reads back. The pin is a time in the session (wall clock, which every
    machine shares); a signed-out visitor or an API client gets none, since neither reads reports.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        pin = _Pin(pinned=_session_pinned(request))
        token = _pin.set(pin)
        try:
            with connections[PRIMARY].execute_wrapper(_watch_writes(pin)):
                response = self.get_response(request)
        finally:
            _pin.reset(token)
        user, session = getattr(request, "user", None), getattr(request, "session", None)
        # A signed-in browser's session only: an API client's write must not start a session for it.
        if pin.wrote and user is not None and user.is_authenticated and session is not None and session.session_key:
            session[PIN_SESSION_KEY] = time.time() + settings.REPLICA_PIN_SECONDS
        return response
