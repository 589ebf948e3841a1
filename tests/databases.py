"""More connections to the test database, as several machines have them: a replica, pgbouncer, a pool.

`database_alias` adds an alias for the length of a test (DATABASE_REPLICA_URL's "replica"); `default_replaced` serves
this thread's requests through another connection (through pgbouncer, or with a pool); `running_pgbouncer` starts
Debian's pgbouncer in front of the test database on a free loopback port and stops it after.
"""

import contextlib
import copy
import os
import socket
import subprocess
import time
import types
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend

PGBOUNCER = "/usr/sbin/pgbouncer"


def database_settings(**changes) -> dict:
    """Return the test database's connection settings with `changes` (OPTIONS merged rather than replaced)."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    options = changes.pop("OPTIONS", None)
    settings_dict.update(changes)
    if options is not None:
        settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), **options}
    return settings_dict


def _connection(settings_dict: dict, alias: str) -> BaseDatabaseWrapper:
    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    # Django's test case refuses to connect an alias it was not told of before the test began (`databases`); this
    # one exists only inside the test, so it connects as it would outside tests.
    patched = BaseDatabaseWrapper.ensure_connection
    contents = [cell.cell_contents for cell in patched.__closure__ or ()]
    cells = dict(zip(patched.__code__.co_freevars, contents, strict=True))
    if "real_ensure_connection" in cells:
        connection.ensure_connection = types.MethodType(cells["real_ensure_connection"], connection)
    return connection


@contextlib.contextmanager
def database_alias(alias: str, *, shared: bool = False, **changes) -> Iterator[BaseDatabaseWrapper]:
    """Add a connection as DATABASE_REPLICA_URL would: to the test database unless `changes` say otherwise.

    `shared` puts it on the test's own connection, inside the test's transaction: it reads what the test wrote
    without a commit (a committed test costs seconds of flush on PostgreSQL).
    """
    settings_dict = database_settings(**changes)
    connection = _connection(settings_dict, alias)
    if shared:
        connections["default"].ensure_connection()
        connection.connection = connections["default"].connection
        # Closing it (a replica marked down) lets go of the test's connection without closing it.
        connection._close = lambda: None
    connections[alias] = connection
    settings.DATABASES[alias] = settings_dict
    try:
        yield connection
    finally:
        del settings.DATABASES[alias]
        if shared:
            connection.connection = None
        connection.close()
        del connections[alias]


@contextlib.contextmanager
def default_replaced(settings_dict: dict) -> Iterator[BaseDatabaseWrapper]:
    """Serve this thread's queries, requests included, through a new "default" connection with these settings."""
    original = connections["default"]
    connection = _connection(settings_dict, "default")
    connections["default"] = connection
    try:
        yield connection
    finally:
        connection.close()
        if connection.settings_dict["OPTIONS"].get("pool"):
            connection.close_pool()
        connections["default"] = original


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_pgbouncer(directory: Path, *, pool_mode: str = "transaction") -> Iterator[int]:
    """Run pgbouncer in front of the test database (trust, as the test server) and yield its port."""
    database = connections["default"].settings_dict
    port = free_port()
    users = directory / "userlist.txt"
    users.write_text(f'"{database["USER"]}" ""\n')
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{database['NAME']} = host={database['HOST'] or '127.0.0.1'} port={database['PORT'] or 5432} "
        # As the suite's own connections (tests/conftest.py): commits need not wait for the disk.
        f"dbname={database['NAME']} connect_query='SET synchronous_commit = off'\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\npool_mode = {pool_mode}\n"
        # Two server connections for many clients: statements of one client meet several servers.
        "default_pool_size = 2\nmax_client_conn = 50\n"
    )
    # pgbouncer refuses to run as root; it reads its files first and then takes this identity.
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = subprocess.Popen([PGBOUNCER, "-q", *user, str(ini)], stderr=subprocess.PIPE)
    try:
        _wait_for(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer stopped: {process.stderr.read().decode(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not start listening in 10 s")
