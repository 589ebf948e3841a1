"""A throw-away cluster of the app on loopback (issue 23), shared by bench/multinode.py and bench/bench_scaling.py.

Everything comes from Debian's packages on this machine and listens on 127.0.0.1 only, on free ports, with its
files in one temporary directory:

- a PostgreSQL primary and a streaming replica made from it with pg_basebackup (run as the `postgres` user, which
  initdb and postgres require; the server already running on 5432 is never touched);
- pgbouncer (transaction pooling) in front of the primary; migrations and the checks of the runs go to the
  primary directly;
- Redis (cache, broker and locks);
- gunicorn web nodes (sync workers) behind haproxy, which checks each node's /healthz every 500 ms, retries a
  request that never reached a node (and a GET that got no answer) on the other node, and adds X-Forwarded-For
  and X-Request-ID;
- Celery workers on queues of their own and Celery beats.

Each process is started in a session (process group) of its own and stopped by that group; PostgreSQL by pg_ctl on
its own data directory. `Cluster.close()` stops everything and removes the directory (kept when a run failed).

The HTTP client (`Browser`) keeps cookies, fills in Django's CSRF token and connects from a chosen loopback
address (127.0.0.0/8 is all loopback on Linux), so that the app, told by haproxy's X-Forwarded-For, sees one client
per address: the public form's per-address rate limit then applies as it would to many people.
"""

import base64
import contextlib
import datetime
import html
import http.client
import http.cookiejar
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
STAFF = ("hki.tourism.staff", "hki.tourism.staff-Demo-2026")
OWNER = ("hki.owner", "hki.owner-Demo-2026")
STAFF_REGISTER = "helsinki-tourism-convention"
STAFF_LIST = f"/crm/{STAFF_REGISTER}/"
REPORT = f"/registers/{STAFF_REGISTER}/statistics/"
FORM_SENT = "/privacy/request/sent/"
REQUEST_TIMEOUT = 10.0
# The cluster's processes run as root, except PostgreSQL and pgbouncer, which refuse to.
DB_USER = "postgres"
# Beat's worst case: the per-register purge and the backup are nightly; the run keeps their hour far from now.
FAR_HOUR = (datetime.datetime.now(datetime.UTC).hour + 12) % 24


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's server binaries (Debian's postgresql-15) are not installed")
    return found[-1].parent


def free_ports(count: int) -> list[int]:
    """Return `count` distinct free loopback ports (held open together, so none is handed out twice)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for(condition, seconds: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # a service not up yet
            if condition():
                return True
        time.sleep(interval)
    try:
        return bool(condition())
    except Exception:
        return False


def p95_ms(values: list[float]) -> float:
    if not values:
        return float("nan")
    if len(values) < 20:
        return max(values) * 1000
    return statistics.quantiles(values, n=20)[-1] * 1000


# Celery's worker with broker transport options of its own: settings.py has none to set from the environment. The
# multi-node run starts one with a short visibility timeout for a moment, so that what a killed worker had taken and
# not acknowledged goes back to its queue at once (any production worker does so after kombu's default hour).
WORKER_WITH_TRANSPORT_OPTIONS = (
    "import json, os, sys; from config.celery import app; "
    "app.conf.broker_transport_options = json.loads(os.environ['CLUSTER_TRANSPORT_OPTIONS']); "
    "app.worker_main(['worker', *sys.argv[1:]])"
)


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path
    extra: dict = field(default_factory=dict)


class Cluster:
    """The processes of one run; `close()` stops them all. Ports and names are the run's own."""

    def __init__(self, label: str, base_name: str, *, web_nodes: int = 2, web_workers: int = 2):
        self.suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"rekisteri-{label}-{self.suffix}-"))
        # PostgreSQL (as `postgres`) must reach its directory below this one.
        self.workdir.chmod(0o755)
        self.db = f"{base_name}_{self.suffix}"
        self.web_nodes = web_nodes
        self.web_workers = web_workers
        names = ["primary", "replica", "pgbouncer", "redis", "haproxy"] + [f"web{n}" for n in range(1, web_nodes + 1)]
        self.port = dict(zip(names, free_ports(len(names)), strict=True))
        self.prefix = f"mn{self.suffix}-"
        self.services: dict[str, Service] = {}
        self.pg_dir = self.workdir / "pg"
        self.pgbouncer_dir = self.workdir / "pgbouncer"
        self.mail_dir = self.workdir / "mail"
        self.media_dir = self.workdir / "media"
        for directory in (self.pg_dir, self.pgbouncer_dir):
            directory.mkdir()
            shutil.chown(directory, DB_USER, DB_USER)
        for name in ("mail", "media", "backups", "anchors", "ledger", "maildrop", "recordings", "logs"):
            (self.workdir / name).mkdir()
        self.bin = pg_bin()
        self.base = f"http://127.0.0.1:{self.port['haproxy']}"
        self.haproxy_socket = self.workdir / "haproxy.sock"
        self.healthz = "/healthz"
        redis = f"redis://127.0.0.1:{self.port['redis']}/0"
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "CELERY_", "REDIS_", "PURGE_", "BEAT_", "REPLICA_", "S3_"))
            and key not in {"DEBUG", "CACHE_URL", "LOCK_URL", "CONN_MAX_AGE", "FILE_STORAGE", "MEDIA_ROOT"}
        }
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Each URL the app gets names its connect timeout (3 s): a server that is away fails a request quickly.
            "DATABASE_URL": self.app_database_url("pgbouncer"),
            "DATABASE_PGBOUNCER": "true",
            "DATABASE_REPLICA_URL": self.app_database_url("replica"),
            "DATABASE_CONNECT_TIMEOUT": "3",
            # A replica that failed is tried again after this long (30 s in production): the run sees it come back.
            "REPLICA_RETRY_SECONDS": "5",
            "DATABASE_REPLICA_CONNECT_TIMEOUT": "2",
            "REDIS_URL": redis,
            "CACHE_URL": redis,
            "CELERY_BROKER_URL": redis,
            "LOCK_URL": redis,
            "CELERY_QUEUE_PREFIX": self.prefix,
            # Lock names apart from the queue names (a queue is a Redis list named as the queue).
            "BEAT_LOCK_NAME": f"{self.prefix}lock-beat",
            "BEAT_LOCK_TIMEOUT_SECONDS": "6",
            "PURGE_LOCK_NAME": f"{self.prefix}lock-purge",
            "PURGE_LOCK_TIMEOUT_SECONDS": "3",
            "PURGE_BATCH_SIZE": "5",
            "PURGE_HOUR": str(FAR_HOUR),
            "BACKUP_HOUR": str(FAR_HOUR),
            "SECRET_KEY": "multinode-run-secret-key-that-is-long-enough-" + secrets.token_hex(16),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.base,
            "TOTP_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "ARCHIVE_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "HTTPS": "false",
            # haproxy appends the client's address to X-Forwarded-For: the one proxy the app believes.
            "TRUSTED_PROXY_COUNT": "1",
            # ... and only on connections from haproxy (a client reaching a node directly is its own address).
            "TRUSTED_PROXY_ADDRESSES": "127.0.0.1",
            "FILE_STORAGE": "filesystem",
            "MEDIA_ROOT": str(self.media_dir),
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
            "BACKUP_DIR": str(self.workdir / "backups"),
            "AUDIT_ANCHOR_DIR": str(self.workdir / "anchors"),
            "ERASURE_LEDGER_DIR": str(self.workdir / "ledger"),
            "ARCHIVE_MAILDIR_ROOT": str(self.workdir / "maildrop"),
            "ARCHIVE_RECORDING_DROP": str(self.workdir / "recordings"),
            "METRICS_TOKEN": secrets.token_hex(16),
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
        }
        # The run's own process (setup and checks) reads and writes the primary directly: its checks must not
        # depend on pgbouncer or the replica, which the scenarios stop.
        self.script_env = {**self.env, "DATABASE_URL": self.app_database_url("primary")}
        for key in ("DATABASE_PGBOUNCER", "DATABASE_REPLICA_URL"):
            self.script_env.pop(key)
        # Workers and beat connect to the primary directly, as docs/deploy.md says: the mailbox poll and the
        # campaign send hold session-level advisory locks, which a transaction-mode pooler would hand to another
        # client.
        self.worker_env = {**self.script_env, "LOG_LEVEL": "INFO"}

    # -- processes --------------------------------------------------------------------------------------------------

    def database_url(self, via: str, database: str | None = None) -> str:
        return f"postgres://{DB_USER}@127.0.0.1:{self.port[via]}/{database or self.db}"

    def app_database_url(self, via: str) -> str:
        return self.database_url(via) + "?connect_timeout=3"

    def log(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def start(self, name: str, command: list[str], env: dict | None = None, **extra) -> Service:
        log = self.log(name)
        output = open(log, "ab")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            command, cwd=ROOT, env=env or self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        output.close()
        service = Service(name, process, log, extra)
        self.services[name] = service
        return service

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop one service's process group (only the groups this run started)."""
        service = self.services.get(name)
        if service is None or service.process.poll() is not None:
            return
        try:
            os.killpg(service.process.pid, sig)
            service.process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()

    def kill(self, name: str) -> None:
        """SIGKILL a service's whole process group: the machine it ran on is gone."""
        self.stop(name, signal.SIGKILL)

    def alive(self, name: str) -> bool:
        service = self.services.get(name)
        return service is not None and service.process.poll() is None

    def as_db_user(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", DB_USER, "--", *command], capture_output=True, text=True, check=check, cwd="/"
        )

    def close(self, keep: bool = False) -> None:
        # Every group asked to stop at once, then each waited for (SIGKILL after 10 s).
        running = [name for name in reversed(list(self.services)) if self.alive(name)]
        for name in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.services[name].process.pid, signal.SIGTERM)
        for name in running:
            self.stop(name, timeout=10)
        for name in ("replica", "primary"):
            if (self.pg_dir / name / "postmaster.pid").exists():
                self.as_db_user(
                    str(self.bin / "pg_ctl"), "stop", "-D", str(self.pg_dir / name), "-m", "immediate", check=False
                )
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- PostgreSQL --------------------------------------------------------------------------------------------------

    def _pg_options(self, name: str) -> str:
        options = [
            f"-p {self.port[name]}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.pg_dir}",
            "-c max_connections=200",
            # A throw-away server: nothing to keep across a crash of the machine.
            "-c fsync=off",
            "-c full_page_writes=off",
            "-c synchronous_commit=off",
        ]
        if name == "replica":
            # One line per connection: the run counts the app's connections to the replica.
            options.append("-c log_connections=on")
        return " ".join(options)

    def pg_start(self, name: str) -> None:
        self.as_db_user(
            str(self.bin / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.pg_dir / name),
            "-l",
            str(self.pg_dir / f"{name}.log"),
            "-o",
            self._pg_options(name),
        )

    def pg_stop(self, name: str, mode: str = "fast") -> None:
        self.as_db_user(str(self.bin / "pg_ctl"), "stop", "-w", "-D", str(self.pg_dir / name), "-m", mode)

    def postgres_start(self, replica: bool = True) -> None:
        self.as_db_user(
            str(self.bin / "initdb"),
            "-D",
            str(self.pg_dir / "primary"),
            "-A",
            "trust",
            "-U",
            DB_USER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        self.pg_start("primary")
        if replica:
            # The replica is made before the database exists: it streams the migration like any later write.
            self.as_db_user(
                str(self.bin / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port["primary"]),
                "-U",
                DB_USER,
                "-D",
                str(self.pg_dir / "replica"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            )
            self.pg_start("replica")
        self.psql(f'CREATE DATABASE "{self.db}"', database="postgres")

    def psql(self, sql: str, via: str = "primary", database: str | None = None) -> str:
        done = subprocess.run(
            ["psql", self.database_url(via, database), "-qAtc", sql], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def replica_connections(self) -> int:
        """Connections the app made to the run's database on the replica (log_connections lines)."""
        pattern = f"connection authorized: user={DB_USER} database={self.db}"
        log = self.pg_dir / "replica.log"
        return log.read_text(errors="replace").count(pattern) if log.exists() else 0

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.script_env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def database_build(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("load_demo")
        # whitenoise's manifest: scripts/test (which CI runs first) collects the files; a run on its own does.
        if not (ROOT / "var" / "staticfiles" / "staticfiles.json").exists():
            self.manage("collectstatic", "--noinput", "-v0")

    # -- pgbouncer and Redis ---------------------------------------------------------------------------------------

    def pgbouncer_start(self) -> None:
        config = self.pgbouncer_dir / "pgbouncer.ini"
        users = self.pgbouncer_dir / "users.txt"
        users.write_text(f'"{DB_USER}" ""\n')
        config.write_text(
            "[databases]\n"
            f"{self.db} = host=127.0.0.1 port={self.port['primary']} dbname={self.db}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port['pgbouncer']}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {users}\n"
            f"admin_users = {DB_USER}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 500\n"
            "default_pool_size = 20\n"
            "server_reset_query =\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            "server_login_retry = 1\n"
        )
        for path in (config, users):
            shutil.chown(path, DB_USER, DB_USER)
        # pgbouncer refuses to run as root: -u switches to the database user.
        self.start("pgbouncer", ["pgbouncer", "-u", DB_USER, str(config)])
        if not wait_for(lambda: self.psql("SELECT 1", via="pgbouncer") == "1", 15):
            raise RuntimeError(f"pgbouncer did not start; see {self.log('pgbouncer')}")

    def redis_ping(self) -> bool:
        done = subprocess.run(["redis-cli", "-p", str(self.port["redis"]), "ping"], capture_output=True, check=False)
        return done.returncode == 0 and b"PONG" in done.stdout

    def redis(self, *args: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port["redis"]), *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def redis_start(self) -> None:
        # No persistence: a Redis that comes back has lost its queues and locks, the worst case the outbox and the
        # sweepers are there for.
        self.start(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port["redis"]),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        if not wait_for(self.redis_ping, 10, 0.1):
            raise RuntimeError("redis did not start")

    def redis_stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port["redis"]), "shutdown", "nosave"], capture_output=True, check=False
        )
        self.services["redis"].process.wait(timeout=10)

    # -- web nodes and haproxy -------------------------------------------------------------------------------------

    def web_start(self, n: int) -> None:
        command = [GUNICORN, "config.wsgi", "-b", f"127.0.0.1:{self.port[f'web{n}']}", "-w", str(self.web_workers)]
        self.start(f"web{n}", [*command, "--graceful-timeout", "5", "--timeout", "30", "--no-control-socket"])

    def web_ready(self, n: int) -> bool:
        status = Browser(f"http://127.0.0.1:{self.port[f'web{n}']}").request("/accounts/login/", timeout=5).status
        return status == 200

    def haproxy_config(self) -> str:
        servers = "\n".join(
            f"  server web{n} 127.0.0.1:{self.port[f'web{n}']} check" for n in range(1, self.web_nodes + 1)
        )
        return f"""global
  maxconn 2000
  stats socket {self.haproxy_socket} mode 600 level admin
  log stdout format raw local0 info

defaults
  mode http
  log global
  option httplog
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout queue 15s
  timeout http-request 10s
  option forwardfor
  # A request that never reached a node (refused, reset while connecting) goes to another node; so does a GET
  # that got no answer from a node that died under it. A POST is never sent twice by the proxy: the client sees
  # the error and sends again (the person presses the button again).
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout

frontend web
  bind 127.0.0.1:{self.port["haproxy"]}
  unique-id-format %[uuid()]
  http-request set-header X-Request-ID %[unique-id]
  default_backend nodes

backend nodes
  # Round robin: a retry goes to the next node (least-connections would pick a dead node, which holds none, again).
  balance roundrobin
  http-request disable-l7-retry if !METH_GET !METH_HEAD
  # /healthz, not /readyz: readiness answers 503 while Redis (or the database) is away, which would take every
  # node out at once; a node is out of rotation only when it cannot answer at all.
  option httpchk
  http-check send meth GET uri {self.healthz} ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  # A check waits for a free sync worker behind the requests being served: 2 s before it counts as failed.
  timeout check 2s
  # Sync workers serve one request each: the proxy queues the rest and hands them to whichever node is free. A
  # connection a node refuses marks it down at once (observe layer4), before its next two checks would.
  default-server inter 500ms fall 2 rise 2 maxconn {self.web_workers} observe layer4 error-limit 1 on-error mark-down
{servers}
"""

    def haproxy_start(self) -> None:
        path = self.workdir / "haproxy.cfg"
        path.write_text(self.haproxy_config())
        self.start("haproxy", ["haproxy", "-db", "-f", str(path)])
        if not wait_for(self.haproxy_socket.exists, 10, 0.1):
            raise RuntimeError(f"haproxy did not start; see {self.log('haproxy')}")

    def haproxy(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.haproxy_socket))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """haproxy's view of each node: status (UP, DOWN, ...), stot (sessions served), ..."""
        lines = self.haproxy("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line.strip()]
        return {row["svname"]: row for row in rows if row["pxname"] == "nodes" and row["svname"].startswith("web")}

    def server_status(self, name: str) -> str:
        return self.servers().get(name, {}).get("status", "?")

    # -- Celery --------------------------------------------------------------------------------------------------

    def queue(self, kind: str) -> str:
        return f"{self.prefix}{kind}"

    def worker_start(self, name: str, kinds: list[str], transport_options: dict | None = None) -> Service:
        arguments = ["--pool=solo", "-Q", ",".join(self.queue(kind) for kind in kinds), "-n", f"{name}@{self.suffix}"]
        arguments += ["--without-gossip", "--without-mingle", "-l", "INFO"]
        # INFO: each task's "received" and "succeeded" lines, which the runs count.
        env = dict(self.worker_env)
        if transport_options is None:
            command = [CELERY, "-A", "config", "worker", *arguments]
        else:
            command = [PYTHON, "-c", WORKER_WITH_TRANSPORT_OPTIONS, *arguments]
            env["CLUSTER_TRANSPORT_OPTIONS"] = json.dumps(transport_options)
        # Each start of a name appends to the same log, so that a task's lines before and after a kill are together.
        return self.start(name, command, env=env, kinds=kinds)

    def worker_ready(self, name: str) -> bool:
        return "ready." in self.log(name).read_text(errors="replace").rsplit("celery@", 1)[-1]

    def beat_start(self, name: str) -> Service:
        schedule = self.workdir / f"{name}-schedule"
        command = [CELERY, "-A", "config", "beat", "-l", "INFO", "--max-interval", "1", "-s", str(schedule)]
        return self.start(name, command, env=self.worker_env)

    def unacked_since(self) -> dict[str, str]:
        """Delivery tag -> when it was delivered, of every message taken and not acknowledged (kombu's index)."""
        lines = self.redis("zrange", "unacked_index", "0", "-1", "withscores").splitlines()
        return dict(zip(lines[::2], lines[1::2], strict=False))

    def unacked(self) -> list[dict]:
        """The messages workers have taken and not acknowledged (kombu's `unacked` hash): task, id, queue."""
        messages = []
        for line in self.redis("hvals", "unacked").splitlines():
            if line.strip():
                message, _exchange, routing_key = json.loads(line)
                headers = message["headers"]
                messages.append({"task": headers["task"], "id": headers["id"], "queue": routing_key})
        return messages


# -- HTTP client ---------------------------------------------------------------------------------------------------


class SourceAddressHandler(urllib.request.HTTPHandler):
    """Connects from the given loopback address, so the app sees one client per address."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def http_open(self, req):
        return self.do_open(http.client.HTTPConnection, req, source_address=(self.source, 0))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int  # 0: no answer (refused, reset, timed out)
    text: str
    elapsed: float
    headers: dict  # names in lower case (haproxy sends them so)


class Browser:
    """A cookie-keeping HTTP client that fills in Django's CSRF token."""

    def __init__(self, base: str, source: str = "127.0.0.1"):
        self.base = base
        self.source = source
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            SourceAddressHandler(source), urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: dict | None = None, timeout: float = REQUEST_TIMEOUT) -> Response:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        # Only ever a loopback base URL of the run's own cluster.
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                text = answer.read().decode(errors="replace")
                status, headers = answer.status, answer.headers
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            status, headers = error.code, error.headers
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return Response(0, "", time.perf_counter() - started, {})
        headers = {name.lower(): value for name, value in headers.items()}
        return Response(status, text, time.perf_counter() - started, headers)

    @staticmethod
    def csrf(text: str) -> str | None:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        return html.unescape(match.group(1)) if match else None

    def post(self, path: str, data: dict) -> Response:
        page = self.request(path)
        token = self.csrf(page.text)
        if token is None:
            raise RuntimeError(f"no CSRF token on {path} (answered {page.status})")
        return self.request(path, {**data, "csrfmiddlewaretoken": token})

    def sign_in(self, username: str, password: str, recovery_code: str | None = None) -> "Browser":
        answer = self.post("/accounts/login/", {"username": username, "password": password, "next": "/"})
        if answer.status != 302:
            raise RuntimeError(f"sign-in of {username} failed with {answer.status}")
        if recovery_code is not None:
            answer = self.post("/accounts/two-factor/", {"token": recovery_code, "next": "/"})
            if answer.status != 302:
                raise RuntimeError(f"the second factor of {username} failed with {answer.status}")
        return self


_addresses = itertools.count(1)
_addresses_lock = threading.Lock()


def next_address() -> str:
    """A loopback address no other client of this process has used: 127.1.0.1, 127.1.0.2, ..."""
    with _addresses_lock:
        n = next(_addresses)
    return f"127.{1 + n // 65025}.{n // 255 % 255}.{1 + n % 255}"


def submission(email: str, register_slug: str) -> dict:
    return {
        "kind": "access",
        "registers": [register_slug],
        "requester_name": "Testi Henkilö",
        "requester_email": email,
        "language": "fi",
        "delivery": "electronic",
        "details": "Haluan tietää, mitä tietoja minusta on tallennettu.",
    }


def form_accepted(answer: Response) -> bool:
    """The public form took the submission: a redirect to its "sent" page (not the form again, not an error)."""
    return answer.status == 302 and answer.headers.get("location", "").endswith(FORM_SENT)


def owner_recovery_codes() -> list[str]:
    """The demo owner with an authenticator, the confidentiality commitments accepted and fresh recovery codes (in
    the run's own Django), one code per sign-in."""
    from django.contrib.auth import get_user_model

    from registers.accounts import commitment_accept
    from registers.recovery_codes import recovery_codes_create
    from registers.selectors import commitment_pending_list
    from registers.totp import TOTPDevice

    owner = get_user_model().objects.get(username=OWNER[0])
    TOTPDevice.objects.get_or_create(user=owner, confirmed=True, defaults={"name": "run"})
    for commitment in commitment_pending_list(user=owner):
        commitment_accept(user=owner, commitment=commitment, remote_addr="127.0.0.1")
    return recovery_codes_create(user=owner)


def public_form(register_slug: str = STAFF_REGISTER) -> str:
    from registers.models import Register

    register = Register.objects.select_related("organisation").get(slug=register_slug)
    return f"/privacy/request/{register.organisation.code}/"


# -- steady load ------------------------------------------------------------------------------------------------------


@dataclass
class Record:
    label: str  # the scenario under way when the request started
    kind: str  # staff list, report, form page, form post
    started: float  # time.monotonic()
    finished: float
    status: int
    ok: bool


@dataclass
class Submission:
    label: str
    email: str
    address: str
    attempts: int = 0
    accepted: bool = False


class Load:
    """Staff page views (the customer list), an owner's reports (statistics) and public-form submissions through
    haproxy, each kind on threads of its own, until stopped. Every request is recorded with the scenario under way
    when it started; a form submission that gets an error is sent again (up to four times), as a person would."""

    def __init__(
        self,
        base: str,
        form_path: str,
        register_slug: str,
        staff: list[Browser],
        owner: Browser | None,
        form_threads: int = 2,
        pause: float = 0.05,
    ):
        self.base = base
        self.form_path = form_path
        self.register_slug = register_slug
        self.staff = staff
        self.owner = owner
        self.form_threads = form_threads
        self.pause = pause
        self.label = "start"
        self.records: list[Record] = []
        self.submissions: list[Submission] = []
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.numbers = itertools.count()
        self.tag = secrets.token_hex(3)

    def mark(self, label: str) -> None:
        self.label = label

    def _reads(self, browser: Browser, path: str, kind: str, pause: float) -> None:
        while not self.stopping.is_set():
            label, started = self.label, time.monotonic()
            answer = browser.request(path)
            self.records.append(Record(label, kind, started, time.monotonic(), answer.status, answer.status == 200))
            self.stopping.wait(pause)

    def _forms(self) -> None:
        browser, used = None, 0
        while not self.stopping.is_set():
            if browser is None or used >= 5:  # five people per address, well under the per-address limit
                browser, used = Browser(self.base, source=next_address()), 0
            used += 1
            item = Submission(self.label, f"mn{self.tag}.{next(self.numbers)}@example.fi", browser.source)
            self.submissions.append(item)
            while item.attempts < 4 and not item.accepted:
                item.attempts += 1
                label, started = self.label, time.monotonic()
                page = browser.request(self.form_path)
                token = Browser.csrf(page.text) if page.status == 200 else None
                self.records.append(Record(label, "form page", started, time.monotonic(), page.status, bool(token)))
                if token:
                    label, started = self.label, time.monotonic()
                    data = {**submission(item.email, self.register_slug), "csrfmiddlewaretoken": token}
                    answer = browser.request(self.form_path, data)
                    item.accepted = form_accepted(answer)
                    self.records.append(
                        Record(label, "form post", started, time.monotonic(), answer.status, item.accepted)
                    )
                if not item.accepted:
                    self.stopping.wait(0.3)
            self.stopping.wait(self.pause)

    def start(self) -> None:
        targets = [(self._reads, (browser, STAFF_LIST, "staff list", self.pause)) for browser in self.staff]
        if self.owner is not None:
            targets.append((self._reads, (self.owner, REPORT, "report", 0.2)))
        targets += [(self._forms, ())] * self.form_threads
        for target, args in targets:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT * 2 + 5)

    def window(self, label: str) -> list[Record]:
        return [record for record in self.records if record.label == label]
