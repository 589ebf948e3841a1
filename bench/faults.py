#!/usr/bin/env python
"""Fault and load run (issues 8 and 11): the app under gunicorn on PostgreSQL and Redis, loopback only.

Every scenario states claims and checks them; the run exits non-zero when one fails:
  1. load      - the staff list page and the public form under a steady load: no failed request, every
                 submission stored;
  2. flood     - one address floods the public form while five people (each from an address of their
                 own, 127.0.0.x) submit theirs: the flooder is let through exactly the per-address limit
                 and answered 429 after it, every person's request is stored, the staff list page
                 answers every read;
  3. redis     - a Celery worker runs while Redis is stopped and people submit the form: every request
                 is stored, no letter goes out while the broker is down, and after Redis is back the
                 same worker sends every letter (the outbox sweeper's task, as beat would send it);
  4. worker    - the worker is killed while a purge run is in progress (the run is still `running` and
                 only part of the due customers are gone): the next run completes it, the killed run is
                 marked interrupted, every due customer is purged exactly once (counts and deletion
                 entries), nothing else is touched;
  5. database  - every PostgreSQL connection of the app is terminated under load: no error from the
                 first request that starts after the drop;
  6. backup    - backup and restore into a fresh database: row counts and checksums are equal;
  7. import    - the worker is killed while it commits a 10,000-row customer file (some chunks committed,
                 not all): the broker delivers the unacknowledged task again to a new worker, which resumes
                 after the last committed chunk; the batch ends done with exactly one customer, one
                 imported record and one audit entry per row of the file (none twice, none missing).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/faults.py [--only NAME ...]
DATABASE_URL names the server and a base name; the run creates and drops its own databases
(<base>_<pid>_<random> and ..._restore), starts its own Redis on a free port and uses its own Celery
queues, so two runs on one machine cannot stop or read each other's services.
"""

import argparse
import base64
import concurrent.futures
import csv
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
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ADMIN_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rekisteri")
PARSED = urllib.parse.urlparse(ADMIN_URL)
SUFFIX = f"{os.getpid()}_{secrets.token_hex(3)}"
DB = f"{PARSED.path.strip('/') or 'rekisteri'}_{SUFFIX}"
RESTORE_DB = f"{DB}_restore"
# Celery queues of this run's own, one per kind of work (config.task_routes); its worker consumes them all.
QUEUE_PREFIX = f"faults-{SUFFIX}-"
WORKDIR = Path(tempfile.mkdtemp(prefix=f"rekisteri-faults-{SUFFIX}-"))
MAIL_DIR = WORKDIR / "mail"
STAFF = ("hki.tourism.staff", "hki.tourism.staff-Demo-2026")
STAFF_REGISTER = "helsinki-tourism-convention"
PURGE_REGISTER = "faults-purge"
# Source addresses on the loopback network: the app sees each as a different client (REMOTE_ADDR).
LOAD_ADDRESS = "127.0.0.1"
ROBOT_ADDRESS = "127.0.0.66"
PEOPLE_ADDRESSES = [f"127.0.0.{10 + i}" for i in range(5)]
OUTAGE_ADDRESS = "127.0.0.20"
FLOOD_POSTS = 300
PURGE_LOCK_SECONDS = 10
IMPORT_REGISTER = "faults-import"
# 10 chunks of imports.services.COMMIT_CHUNK rows: long enough to be killed in the middle of, without
# slowing the app down on purpose (30,000 rows proved no more and took two minutes of CI's thirty).
IMPORT_ROWS = 10_000
# Redis keeps a message a killed worker had taken as unacknowledged until this many seconds after its
# delivery (kombu's default is an hour); the worker started after the kill restores it then.
IMPORT_VISIBILITY_TIMEOUT = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REDIS_PORT = free_port()
APP_PORT = free_port()
ENV = {
    **os.environ,
    "DATABASE_URL": PARSED._replace(path=f"/{DB}").geturl(),
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "PURGE_LOCK_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "SECRET_KEY": "fault-run-secret-key-that-is-long-enough-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": f"http://127.0.0.1:{APP_PORT}",
    # Fernet keys of this run's own for the two-factor secrets and the archive (required with DEBUG off).
    "TOTP_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "ARCHIVE_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "HTTPS": "false",
    "TRUSTED_PROXY_COUNT": "0",
    "CELERY_QUEUE_PREFIX": QUEUE_PREFIX,
    "PURGE_LOCK_TIMEOUT_SECONDS": str(PURGE_LOCK_SECONDS),
    "PURGE_BATCH_SIZE": "20",
    "EMAIL_URL": f"filemail:///{MAIL_DIR}",
    "MEDIA_ROOT": str(WORKDIR / "media"),
    "BACKUP_DIR": str(WORKDIR / "backups"),
    "LOG_LEVEL": "ERROR",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}
ENV.pop("DEBUG", None)
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))

# (scenario, what it did, what it found, the claims that failed)
RESULTS: list[tuple[str, str, str, list[str]]] = []
processes: list[subprocess.Popen] = []


def psql(sql: str, database: str = "postgres") -> str:
    url = PARSED._replace(path=f"/{database}").geturl()
    done = subprocess.run(["psql", url, "-qAtc", sql], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def manage(*args: str, env: dict | None = None) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env or ENV, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def start(command: list[str], env: dict | None = None, log: str | None = None) -> subprocess.Popen:
    output = open(WORKDIR / log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        command, cwd=ROOT, env=env or ENV, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    processes.append(process)
    return process


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    # Only the process groups this run started (start_new_session): never another run's services.
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def redis_ping() -> bool:
    done = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, check=False)
    return done.returncode == 0 and b"PONG" in done.stdout


def redis_start() -> subprocess.Popen:
    process = start(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"]
    )
    for _ in range(50):
        if redis_ping():
            return process
        time.sleep(0.1)
    raise RuntimeError("redis did not start")


def redis_stop(process: subprocess.Popen) -> None:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True, check=False)
    process.wait(timeout=10)


# `celery -A config worker` with broker transport options of its own: settings.py has none to set from the
# environment, and these apply to this one worker process only.
WORKER_WITH_TRANSPORT_OPTIONS = (
    "import json, os, sys; from config.celery import app; "
    "app.conf.broker_transport_options = json.loads(os.environ['FAULTS_TRANSPORT_OPTIONS']); "
    "app.worker_main(['worker', *sys.argv[1:]])"
)


def worker_start(transport_options: dict | None = None, **env: str) -> subprocess.Popen:
    from django.conf import settings

    queues = ",".join(settings.CELERY_QUEUES_BY_KIND.values())
    arguments = ["--pool=solo", "-Q", queues, "-n", f"{QUEUE_PREFIX}{secrets.token_hex(2)}@localhost"]
    arguments += ["--without-gossip", "--without-mingle"]
    if transport_options is None:
        command = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", *arguments]
    else:
        command = [PYTHON, "-c", WORKER_WITH_TRANSPORT_OPTIONS, *arguments]
        env["FAULTS_TRANSPORT_OPTIONS"] = json.dumps(transport_options)
    return start(command, env={**ENV, **env}, log="worker.log")


def unacked_tasks() -> list[str]:
    """Name the task of each message a worker has taken and not acknowledged (kombu's `unacked` hash)."""
    done = subprocess.run(
        ["redis-cli", "-p", str(REDIS_PORT), "hvals", "unacked"], capture_output=True, text=True, check=True
    )
    # Each value is one line of JSON: [message, exchange, routing key].
    return [json.loads(line)[0]["headers"]["task"] for line in done.stdout.splitlines() if line.strip()]


def wait_for(condition, seconds: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class SourceAddressHandler(urllib.request.HTTPHandler):
    """Connects from the given loopback address, so the app sees one client per address."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def http_open(self, req):
        return self.do_open(http.client.HTTPConnection, req, source_address=(self.source, 0))


class Browser:
    """A cookie-keeping HTTP client that fills in Django's CSRF token."""

    def __init__(self, base: str, source: str = LOAD_ADDRESS):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            SourceAddressHandler(source), urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: dict | None = None, timeout: float = 15) -> tuple[int, str, float]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        # Only ever the loopback base URL this script started gunicorn on.
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=timeout) as response:
                text = response.read().decode(errors="replace")
                status = response.status
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            status = error.code
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException):
            return 0, "", time.perf_counter() - started
        return status, text, time.perf_counter() - started

    def token(self, path: str) -> str:
        _status, text, _elapsed = self.request(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if not match:
            raise RuntimeError(f"no CSRF token on {path}")
        return html.unescape(match.group(1))

    def post(self, path: str, data: dict) -> tuple[int, str, float]:
        return self.request(path, {**data, "csrfmiddlewaretoken": self.token(path)})

    def sign_in(self, username: str, password: str) -> None:
        status, _text, _elapsed = self.post(
            "/accounts/login/", {"username": username, "password": password, "next": "/"}
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {username} failed with {status}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def answered(status: int) -> bool:
    """The public form's answer to a stored submission: a page or a redirect, never an error or a refusal."""
    return 200 <= status < 400


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) >= 20 else max(values) * 1000


def hammer(function, count: int, threads: int) -> list:
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _i: function(), range(count)))


def record(scenario: str, did: str, found: str, failed: list[str]) -> None:
    RESULTS.append((scenario, did, found, failed))


def setup() -> None:
    psql(f"CREATE DATABASE {DB}")
    manage("migrate", "--noinput")
    manage("load_demo")
    manage(
        "generate_data", "--customers", "400", "--interactions", "2000",
        "--register", PURGE_REGISTER, "--inactive-share", "0.6",
    )  # fmt: skip
    import django

    django.setup()
    from registers.models import Register

    # generate_data makes a 36-month register: everything idle longer is due.
    Register.objects.filter(slug=PURGE_REGISTER).update(retention_months=36)


def public_form_path() -> tuple[str, str]:
    from registers.models import Register

    register = Register.objects.get(slug=STAFF_REGISTER)
    return f"/privacy/request/{register.organisation.code}/", register.slug


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


def requests_for(emails: list[str]) -> int:
    from privacy.requests.models import DataSubjectRequest

    return DataSubjectRequest.objects.filter(requester_email__in=emails).values("requester_email").distinct().count()


def letters_for(emails: list[str]):
    from privacy.requests.models import Correspondence

    return Correspondence.objects.filter(request__requester_email__in=emails)


def mails_to(email: str) -> int:
    # The file backend writes each message with its headers; count those addressed to `email`.
    pattern = re.compile(rf"^To: {re.escape(email)}$", re.MULTILINE)
    return sum(len(pattern.findall(path.read_text(errors="replace"))) for path in MAIL_DIR.glob("*"))


def scenario_load(base: str) -> None:
    staff = Browser(base)
    staff.sign_in(*STAFF)
    list_path = f"/crm/{STAFF_REGISTER}/"
    staff.request(list_path)
    started = time.perf_counter()
    results = hammer(lambda: staff.request(list_path), 120, 4)
    elapsed = time.perf_counter() - started
    ok = [r for r in results if r[0] == 200]
    failed = [f"{len(results) - len(ok)} of 120 staff list reads did not answer 200"] if len(ok) < 120 else []
    record(
        "load: staff list page",
        f"120 GETs on 4 threads: {len(ok) / elapsed:.0f} req/s, p95 {p95([r[2] for r in ok]):.0f} ms",
        f"{len(results) - len(ok)} failed",
        failed,
    )
    path, slug = public_form_path()
    form = Browser(base)
    emails = [f"load{i}@example.fi" for i in range(15)]
    started = time.perf_counter()
    statuses = [form.post(path, submission(email, slug)) for email in emails]
    elapsed = time.perf_counter() - started
    stored = requests_for(emails)
    refused = sum(1 for s in statuses if not answered(s[0]))
    failed = []
    if stored != len(emails):
        failed.append(f"{len(emails) - stored} of {len(emails)} submissions not stored")
    if refused:
        failed.append(f"{refused} submissions answered {sorted({s[0] for s in statuses if not answered(s[0])})}")
    record(
        "load: public form",
        f"15 submissions (GET + POST each): {15 / elapsed:.1f} req/s, p95 {p95([s[2] for s in statuses]):.0f} ms",
        f"{len(emails) - stored} lost, {refused} refused",
        failed,
    )


def scenario_flood(base: str) -> None:
    from privacy.requests.ratelimit import limits

    limit, window = limits()["ip"]
    path, slug = public_form_path()
    staff = Browser(base)
    staff.sign_in(*STAFF)
    robot = Browser(base, source=ROBOT_ADDRESS)
    token = robot.token(path)
    numbers = itertools.count()
    people_done = threading.Event()
    flood_started = threading.Event()
    deadline = time.monotonic() + 180
    latencies: list[float] = []
    staff_statuses: list[int] = []
    real = [f"real{i}@example.fi" for i in range(len(PEOPLE_ADDRESSES))]
    real_statuses: list[int] = []

    def flood() -> list[int]:
        # Every post a new e-mail address: only the per-address limit can stop them, not folding or the
        # per-e-mail limit. The flood goes on until the people have submitted, so theirs land inside it.
        statuses = []
        while time.monotonic() < deadline:
            n = next(numbers)
            if n >= FLOOD_POSTS and people_done.is_set():
                break
            if n >= limit + 10:
                flood_started.set()
            data = {**submission(f"flood{n}@example.fi", slug), "csrfmiddlewaretoken": token}
            statuses.append(robot.request(path, data)[0])
        return statuses

    def people() -> None:
        try:
            flood_started.wait(timeout=60)
            for address, email in zip(PEOPLE_ADDRESSES, real, strict=True):
                real_statuses.append(Browser(base, source=address).post(path, submission(email, slug))[0])
        finally:
            people_done.set()

    def staff_reads() -> None:
        while not flood_over.is_set():
            status, _text, elapsed = staff.request(f"/crm/{STAFF_REGISTER}/")
            staff_statuses.append(status)
            if status == 200:
                latencies.append(elapsed)

    flood_over = threading.Event()
    window_first = int(time.time() // window)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        reading = pool.submit(staff_reads)
        submitting = pool.submit(people)
        floods = [pool.submit(flood) for _ in range(6)]
        statuses = [status for each in floods for status in each.result()]
        flood_over.set()
        submitting.result()
        reading.result()
    windows = int(time.time() // window) - window_first + 1
    limited = statuses.count(429)
    let_through = sum(1 for s in statuses if answered(s))
    errors = len(statuses) - limited - let_through
    kept = requests_for(real)
    failed = []
    # The limit holds per fixed window; a flood that straddles a window boundary gets a second allowance.
    if not len(statuses) - windows * limit <= limited <= len(statuses) - limit:
        failed.append(f"{limited} of {len(statuses)} flood posts answered 429, expected {len(statuses) - limit}")
    if errors:
        failed.append(f"{errors} flood posts answered neither 429 nor a page ({sorted(set(statuses))})")
    if kept != len(real):
        failed.append(f"{len(real) - kept} of {len(real)} people's submissions made during the flood not stored")
    if not all(answered(s) for s in real_statuses):
        failed.append(f"people's submissions during the flood answered {real_statuses}")
    if any(s != 200 for s in staff_statuses) or not staff_statuses:
        failed.append(f"staff list reads during the flood answered {sorted(set(staff_statuses))}")
    record(
        "flood: public form from one address",
        f"{len(statuses)} POSTs on 6 threads from {ROBOT_ADDRESS} (limit {limit} per {window} s): {let_through} "
        f"let through, {limited} answered 429; {len(real)} people from their own addresses submitted during it "
        f"(answers {sorted(set(real_statuses))}); staff list p95 during flood {p95(latencies):.0f} ms over "
        f"{len(latencies)} reads",
        f"{len(real) - kept} of {len(real)} real submissions lost; {errors} errors",
        failed,
    )


def scenario_redis_down(base: str, redis: subprocess.Popen) -> subprocess.Popen:
    path, slug = public_form_path()
    before = [f"load{i}@example.fi" for i in range(15)]
    emails = [f"noredis{i}@example.fi" for i in range(5)]
    failed = []
    worker = worker_start()
    # The worker is consuming once it has sent the letters the earlier scenarios queued for it.
    if not wait_for(lambda: not letters_for(before).filter(sent_at__isnull=True).exists(), 90):
        failed.append("the worker did not send the letters queued before the outage")
    redis_stop(redis)
    person = Browser(base, source=OUTAGE_ADDRESS)
    statuses = [person.post(path, submission(email, slug))[0] for email in emails]
    stored = requests_for(emails)
    queued = letters_for(emails).count()
    time.sleep(2)
    sent_during = letters_for(emails).filter(sent_at__isnull=False).count()
    redis = redis_start()
    from django.utils import timezone

    back_at = timezone.now()
    alive = worker.poll() is None
    from privacy.requests.tasks import correspondence_sweep

    # What beat sends every five minutes, sent now: the worker finds the letters no task was queued for.
    correspondence_sweep.apply_async(kwargs={"older_than_seconds": 0})
    all_sent = wait_for(lambda: not letters_for(emails).filter(sent_at__isnull=True).exists(), 120)
    sent_after = letters_for(emails).filter(sent_at__gte=back_at).count()
    delivered = sum(1 for email in emails if mails_to(email))
    stop(worker)
    if stored != len(emails):
        failed.append(f"{len(emails) - stored} of {len(emails)} submissions made while Redis was down not stored")
    if not all(answered(s) for s in statuses):
        failed.append(f"submissions while Redis was down answered {statuses}")
    if queued < len(emails):
        failed.append(f"only {queued} letters queued for {len(emails)} requests")
    if sent_during:
        failed.append(f"{sent_during} letters went out while the broker was down (the check is void)")
    if not alive:
        failed.append("the worker died during the outage")
    if not all_sent or sent_after != queued:
        failed.append(f"{queued - sent_after} of {queued} letters not sent after Redis came back")
    if delivered != len(emails):
        failed.append(f"{len(emails) - delivered} of {len(emails)} requesters got no e-mail")
    record(
        "redis: stopped during submissions",
        f"a worker ran through the outage ({'still the same process' if alive else 'died'}); {len(emails)} "
        f"submissions while Redis was down answered {sorted(set(statuses))}, {queued} letters queued, "
        f"{sent_during} sent during the outage; after the restart the worker sent {sent_after} "
        f"(sweeper task), {delivered} of {len(emails)} requesters have their e-mail",
        f"{len(emails) - stored} lost, {queued - sent_after} letters unsent",
        failed,
    )
    return redis


def scenario_worker_killed() -> None:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from crm.models import Customer, Interaction
    from privacy.retention.models import PurgeRun
    from privacy.retention.purge import purge_run_task
    from registers.models import Register

    register = Register.objects.get(slug=PURGE_REGISTER)
    due = Customer.objects.filter(register=register, last_activity_at__lt=cutoff(register))
    due_ids = set(due.values_list("pk", flat=True))
    kept_ids = set(Customer.objects.filter(register=register).values_list("pk", flat=True)) - due_ids
    kept_interactions = Interaction.objects.filter(customer_id__in=kept_ids).count()
    task = {"kwargs": {"register_code": str(register.code), "trigger": "manual"}}
    # Small batches make the run last long enough to be killed in the middle of it.
    worker = worker_start(PURGE_BATCH_SIZE="5")
    purge_run_task.apply_async(**task)
    wait_for(lambda: Customer.objects.filter(pk__in=due_ids).count() <= len(due_ids) - 20, 90, interval=0.02)
    stop(worker, signal.SIGKILL)
    after_kill = Customer.objects.filter(pk__in=due_ids).count()
    killed_runs = list(PurgeRun.objects.filter(register=register).values_list("pk", "status"))
    time.sleep(PURGE_LOCK_SECONDS + 1)  # the lock of the killed run expires
    worker = worker_start()
    purge_run_task.apply_async(**task)
    wait_for(lambda: PurgeRun.objects.filter(register=register, status=PurgeRun.Status.COMPLETED).exists(), 120, 0.5)
    stop(worker)
    left = Customer.objects.filter(pk__in=due_ids).count()
    orphans = Interaction.objects.filter(customer_id__in=due_ids).count()
    kept_now = Customer.objects.filter(pk__in=kept_ids).count()
    kept_interactions_now = Interaction.objects.filter(customer_id__in=kept_ids).count()
    runs = list(PurgeRun.objects.filter(register=register).order_by("started_at", "pk"))
    purged_counted = sum(count.purged for run in runs for count in run.counts.filter(kind="customer"))
    deletions = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        action=LogEntry.Action.DELETE,
        object_id__in=due_ids | kept_ids,
    )
    deleted_entries = deletions.count()
    deleted_customers = deletions.values("object_id").distinct().count()
    failed = []
    if not (len(killed_runs) == 1 and killed_runs[0][1] == PurgeRun.Status.RUNNING):
        failed.append(f"no run was in progress when the worker was killed ({killed_runs})")
    if not 0 < after_kill < len(due_ids):
        failed.append(f"the kill was not mid-run: {len(due_ids) - after_kill} of {len(due_ids)} purged by then")
    statuses = [run.status for run in runs]
    if statuses != [PurgeRun.Status.INTERRUPTED, PurgeRun.Status.COMPLETED]:
        failed.append(f"runs ended {statuses}, expected the killed one interrupted and the next completed")
    if purged_counted != len(due_ids):
        failed.append(f"the runs counted {purged_counted} purged customers for {len(due_ids)} due")
    if deleted_entries != len(due_ids) or deleted_customers != len(due_ids):
        failed.append(f"{deleted_entries} deletion entries for {deleted_customers} customers, {len(due_ids)} due")
    lost = left + orphans + (len(kept_ids) - kept_now) + (kept_interactions - kept_interactions_now)
    if lost:
        failed.append(f"{lost} rows wrongly left or removed")
    record(
        "worker: killed during a purge run",
        f"{len(due_ids)} customers due; SIGKILL with the run {killed_runs[0][1] if killed_runs else 'missing'} "
        f"after {len(due_ids) - after_kill} were purged, the rest by the next run ({len(runs)} runs: "
        f"{', '.join(statuses)}); purged counted {purged_counted}, {deleted_entries} deletion entries for "
        f"{deleted_customers} customers",
        f"{left} due customers left, {orphans} orphaned interactions, "
        f"{len(kept_ids) - kept_now} wrongly purged customers, {kept_interactions - kept_interactions_now} lost "
        "interactions of kept customers",
        failed,
    )


def cutoff(register):
    import datetime

    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    return timezone.now() - relativedelta(months=register.retention_months) - datetime.timedelta(days=1)


def scenario_database_dropped(base: str) -> None:
    staff = Browser(base)
    staff.sign_in(*STAFF)
    # (started, status): a request counts as after the drop if it started once every backend had gone.
    outcomes: list[tuple[float, int]] = []

    def read():
        started = time.perf_counter()
        status, _text, _elapsed = staff.request(f"/crm/{STAFF_REGISTER}/")
        outcomes.append((started, status))

    terminated = 0
    dropped_at = float("inf")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = []
        for i in range(160):
            futures.append(pool.submit(read))
            if i == 60:
                # Wait (up to 5 s) for each backend to exit, so "after" means after the drop.
                terminated = int(
                    psql(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                        f"WHERE datname = '{DB}' AND pid <> pg_backend_pid()"
                    )
                )
                dropped_at = time.perf_counter()
            time.sleep(0.01)
        for future in futures:
            future.result()
    after = [status for started, status in outcomes if started >= dropped_at]
    errors_after = sum(1 for status in after if status != 200)
    during = sum(1 for started, status in outcomes if started < dropped_at and status != 200)
    failed = []
    if not terminated:
        failed.append("no connection of the app was terminated (the check is void)")
    if len(after) < 50:
        failed.append(f"only {len(after)} requests started after the drop")
    if errors_after:
        failed.append(f"{errors_after} of {len(after)} requests after the drop failed")
    record(
        "database: connections terminated under load",
        f"160 GETs on 4 threads; {terminated} backends terminated after 60; {during} errors among requests "
        f"in flight at the drop; {len(after)} requests started after it",
        f"{errors_after} errors from the first request after the drop",
        failed,
    )


def scenario_backup_restore() -> None:
    directory = WORKDIR / "backup"
    directory.mkdir()
    # The nightly purge has run on the live database (the demo data holds customers past their retention): what
    # the restore's own purge then finds due is what ran out in between, so the two must hold the same rows.
    manage("purge")
    manage("backup", "--directory", str(directory), "--no-prune")
    dump = next(directory.glob("*.dump"))
    psql(f"CREATE DATABASE {RESTORE_DB}")
    manage("restore", str(dump), "--database-name", RESTORE_DB, "--noinput")
    # The restore then brings the database up to date (erasures replayed, a purge run, the chain anchored): the
    # rows of that run are new; every other table must be as it was.
    written_after = {
        "privacy_purgerun",
        "privacy_purgecount",
        "privacy_purgerunstatuschange",
        "registers_auditchainlink",
        "registers_auditchainhead",
    }
    tables = [
        table
        for table in psql(
            "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'", DB
        ).split()
        if table not in written_after
    ]
    differing = []
    rows = 0
    for table in tables:
        # Table names come from pg_tables of the database this script made.
        checksum = "coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
        query = f"SELECT count(*) || ':' || {checksum} FROM \"{table}\" t"
        original, restored = psql(query, DB), psql(query, RESTORE_DB)
        rows += int(original.split(":")[0])
        if original != restored:
            differing.append(table)
    failed = [f"{len(differing)} tables differ: {differing}"] if differing else []
    if not rows:
        failed.append("the database was empty (the check is void)")
    record(
        "backup: pg_dump and restore into a fresh database",
        f"{len(tables)} tables, {rows} rows compared by count and md5 checksum",
        f"{len(differing)} tables differ",
        failed,
    )


BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id(n: int) -> str:
    """Return the n-th valid business ID from 3000000 on (a check digit of 1 is never issued; skipped)."""
    number = 3_000_000 + n * 3
    while True:
        digits = f"{number:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, BUSINESS_ID_WEIGHTS, strict=True)) % 11
        if remainder != 1:
            return f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        number += 1


def import_file(path: Path, rows: int) -> tuple[set[str], set[str]]:
    """Write a customer CSV as an organisation would export it; return its business IDs and e-mails."""
    business_ids, emails = set(), set()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Nimi", "Y-tunnus", "Sähköposti", "Katuosoite", "Postinumero", "Kaupunki", "Puhelin"])
        for n in range(rows):
            business_ids.add(business_id(n))
            emails.add(f"info{n}@yritys{n}.example.fi")
            writer.writerow(
                [
                    f"Yritys {n} Oy",
                    business_id(n),
                    f"info{n}@yritys{n}.example.fi",
                    f"Kauppakatu {n % 200 + 1}",
                    f"{94100 + n % 50:05d}",
                    "Kemi",
                    f"040 {n % 10_000_000:07d}",
                ]
            )
    return business_ids, emails


def import_batch_previewed(path: Path):
    """A register with an owner, and the file uploaded and previewed (by the running worker) with the suggested
    mapping.

    Return the owner, the batch, the mapping and the preview's (rows, new, rejected)."""
    from django.contrib.auth import get_user_model

    from imports import services
    from imports.mapping import KIND_CUSTOMERS, suggest_mapping
    from imports.models import ImportBatch
    from imports.reading import read_table
    from registers.models import CustomerField, Organisation, Register, Role
    from registers.services import membership_grant, register_role_groups_ensure

    organisation, _ = Organisation.objects.get_or_create(name_fi="Vikakoe Oy")
    register = Register(
        slug=IMPORT_REGISTER,
        organisation=organisation,
        name_fi="Tuonnin vikakoe",
        name_sv="Felprov av import",
        name_en="Import fault run",
        owner="Vikakoe",
        purposes="Asiakassuhteen hoito",
        legal_bases=["f"],
        data_categories="Yritysasiakkaiden yhteystiedot",
        collected_fields=list(CustomerField.values),
        retention_months=36,
    )
    register.full_clean()
    register.save()
    register_role_groups_ensure(register=register)
    users = get_user_model().objects
    main_user = users.create_user(username="faults.main", password=None, is_superuser=True)
    owner = users.create_user(username="faults.import.owner", password=None, email="owner@vikakoe.example.fi")
    membership_grant(actor=main_user, user=owner, register=register, role=Role.OWNER, reason="import fault run")
    with path.open("rb") as upload:
        batch = services.import_batch_create(actor=owner, register=register, file=upload, file_name=path.name)
    with path.open("rb") as file:
        mapping = suggest_mapping(read_table(file, file_name=path.name).headers, register=register, kind=KIND_CUSTOMERS)
    # A batch is previewed by a task, as the mapping page starts it: the worker running now does it.
    services.import_preview_start(actor=owner, batch=batch, mapping=mapping, match_mode=ImportBatch.MatchMode.SKIP)
    wait_for(ImportBatch.objects.filter(pk=batch.pk, previewed_at__isnull=False).exists, 120)
    batch.refresh_from_db()
    return owner, batch, mapping, (batch.rows, batch.created, batch.rejected)


def scenario_import_worker_killed() -> None:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import close_old_connections
    from django.db.models import Count
    from django.db.models.functions import Upper

    from crm.models import Customer
    from imports import services
    from imports.models import ImportBatch, ImportedRecord, ImportEvent
    from imports.tasks import import_commit

    # The database scenario terminates this process's connection too: checked again before the next query,
    # as a request does (CONN_HEALTH_CHECKS).
    close_old_connections()
    path = WORKDIR / "asiakkaat.csv"
    business_ids, emails = import_file(path, IMPORT_ROWS)
    worker = worker_start()
    started = time.monotonic()
    owner, batch, mapping, preview = import_batch_previewed(path)
    preview_seconds = time.monotonic() - started
    failed = []
    if sorted(mapping) != list(range(7)) or not {"business_id", "email"} <= set(mapping.values()):
        failed.append(f"the suggested mapping left columns out: {mapping}")
    if preview != (IMPORT_ROWS, IMPORT_ROWS, 0):
        failed.append(f"the preview of {IMPORT_ROWS} rows found (rows, new, rejected) {preview}")
    services.import_start(actor=owner, batch=batch)  # queues imports.tasks.import_commit once it commits

    def progress() -> int:
        return ImportBatch.objects.values_list("progress", flat=True).get(pk=batch.pk)

    # Killed once two chunks are in, while the third is being written.
    wait_for(lambda: progress() >= 2 * services.COMMIT_CHUNK, 120, interval=0.02)
    started = time.monotonic()
    stop(worker, signal.SIGKILL)
    batch.refresh_from_db()
    state_at_kill, done_at_kill = batch.state, batch.progress
    customers_at_kill = Customer.objects.filter(register=batch.register).count()
    # kombu keeps each message a worker has taken in the `unacked` hash until the worker acknowledges it. The
    # purge task scenario 4's killed worker left is there too (the next worker restores it as well, and its
    # run finds nothing due): only the import's task counts.
    unacked_at_kill = unacked_tasks().count(import_commit.name)
    # The task is not sent again: only the broker's redelivery of the killed worker's message may resume it.
    # The new worker restores a message unacknowledged for longer than its visibility timeout, as a
    # production worker does after an hour; the timeout is shortened for this worker only.
    worker = worker_start(
        transport_options={
            "visibility_timeout": IMPORT_VISIBILITY_TIMEOUT,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
    )
    finished = ImportBatch.State.DONE, ImportBatch.State.FAILED
    wait_for(lambda: ImportBatch.objects.filter(pk=batch.pk, state__in=finished).exists(), 240, interval=0.5)
    resume_seconds = time.monotonic() - started
    # The task acknowledges its message after it returns, a moment after its last commit marked the batch done:
    # give the worker that moment (a loaded machine stretches it) before counting what is left unacknowledged.
    wait_for(lambda: import_commit.name not in unacked_tasks(), 30, interval=0.5)
    unacked_after = unacked_tasks().count(import_commit.name)
    stop(worker)
    batch.refresh_from_db()

    customers = Customer.objects.filter(register=batch.register)
    created = customers.count()
    distinct_business_ids = customers.values("business_id").distinct().count()
    distinct_emails = customers.annotate(upper=Upper("email")).values("upper").distinct().count()
    missing = len(business_ids - set(customers.values_list("business_id", flat=True)))
    missing += len({e.upper() for e in emails} - {e.upper() for e in customers.values_list("email", flat=True)})
    records = ImportedRecord.objects.filter(batch=batch)
    record_count = records.count()
    records_per_customer = records.values("customer_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    records_of_customers = records.filter(customer__in=customers, action=ImportedRecord.Action.CREATED).count()
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), additional_data__import_batch=str(batch.code)
    )
    entry_count = entries.count()
    created_entries = entries.filter(action=LogEntry.Action.CREATE, object_id__in=customers.values("pk"))
    entries_per_customer = created_entries.values("object_id").distinct().count()
    events = list(batch.events.values_list("old", "new", "note", "payload"))
    resumed = [payload for _old, _new, note, payload in events if note == ImportEvent.Note.RESUMED]

    if state_at_kill != ImportBatch.State.RUNNING or not 0 < done_at_kill < IMPORT_ROWS:
        failed.append(f"the kill was not mid-import: the batch was {state_at_kill} with {done_at_kill} rows done")
    if customers_at_kill != done_at_kill:
        failed.append(f"{customers_at_kill} customers at the kill for {done_at_kill} rows committed")
    if unacked_at_kill != 1:
        failed.append(f"{unacked_at_kill} unacknowledged import tasks at the kill, expected one")
    if batch.state != ImportBatch.State.DONE:
        failed.append(f"the batch ended {batch.state} (events {events}), expected done")
    if [payload.get("rows_done") for payload in resumed] != [done_at_kill]:
        failed.append(f"resumed {resumed}, expected once after the {done_at_kill} rows committed before the kill")
    # A chunk run twice would find its own customers already stored and count them skipped or duplicate.
    counts = (batch.progress, batch.rows, batch.created, batch.skipped + batch.duplicate + batch.invalid)
    if counts != (IMPORT_ROWS, IMPORT_ROWS, IMPORT_ROWS, 0):
        failed.append(
            f"the batch counts {batch.progress} rows done of {batch.rows}: {batch.created} created, {batch.skipped} "
            f"unchanged, {batch.duplicate} duplicates, {batch.invalid} invalid"
        )
    if created != IMPORT_ROWS or distinct_business_ids != IMPORT_ROWS or distinct_emails != IMPORT_ROWS or missing:
        failed.append(
            f"{created} customers with {distinct_business_ids} business IDs and {distinct_emails} e-mails for "
            f"{IMPORT_ROWS} rows; {missing} of the file's business IDs and e-mails missing"
        )
    if record_count != created or records_of_customers != created or records_per_customer:
        failed.append(
            f"{record_count} imported records ({records_of_customers} of the created customers, "
            f"{records_per_customer} customers recorded twice) for {created} customers"
        )
    if entry_count != created or entries_per_customer != created:
        failed.append(f"{entry_count} audit entries of the batch, create entries for {entries_per_customer} "
                      f"of {created} customers")  # fmt: skip
    if unacked_after:
        failed.append(f"{unacked_after} import tasks still unacknowledged after the batch finished")
    resumption = "never resumed it"
    if resumed:
        resumption = f"resumed it after {', '.join(str(payload.get('rows_done')) for payload in resumed)} rows"
    record(
        "import: worker killed during a commit",
        f"{IMPORT_ROWS}-row CSV previewed in {preview_seconds:.0f} s; SIGKILL with the batch {state_at_kill} "
        f"after {done_at_kill} rows ({done_at_kill // services.COMMIT_CHUNK} chunks of "
        f"{services.COMMIT_CHUNK}), {unacked_at_kill} import task left unacknowledged in Redis; a new worker "
        f"(visibility timeout {IMPORT_VISIBILITY_TIMEOUT} s, the task not sent again) "
        f"{resumption} and the batch ended {batch.state} {resume_seconds:.0f} s after the kill; {created} customers, "
        f"{record_count} imported records, {entry_count} audit entries",
        f"{IMPORT_ROWS - created} rows lost, {created - distinct_business_ids} duplicate business IDs, "
        f"{created - distinct_emails} duplicate e-mails, {entry_count - entries_per_customer} extra audit entries",
        failed,
    )


def run_scenario(name: str, function, *args):
    try:
        return function(*args)
    except Exception as error:  # a scenario that crashes is a failed claim, and the others still run
        record(name, "crashed", f"{type(error).__name__}: {error}"[-500:], [f"crashed: {type(error).__name__}"])
        return None


SCENARIOS = ("load", "flood", "redis", "worker", "database", "backup", "import")


def main() -> int:
    parser = argparse.ArgumentParser(description="Fault and load run of the app on PostgreSQL and Redis.")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios (default: all)")
    only = set(parser.parse_args().only or SCENARIOS)
    started = time.monotonic()
    MAIL_DIR.mkdir()
    print(f"Fault run {SUFFIX}: database {DB}, Redis port {REDIS_PORT}, app port {APP_PORT}, files in {WORKDIR}")
    redis = redis_start()
    try:
        setup()
        gunicorn = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{APP_PORT}"]
        start([*gunicorn, "-w", "2", "--threads", "4"], log="gunicorn.log")
        base = f"http://127.0.0.1:{APP_PORT}"
        if not wait_for(lambda: Browser(base).request("/accounts/login/")[0] == 200, 30):
            raise RuntimeError(f"gunicorn did not answer; see {WORKDIR / 'gunicorn.log'}")
        if "load" in only:
            run_scenario("load", scenario_load, base)
        if "flood" in only:
            run_scenario("flood", scenario_flood, base)
        if "redis" in only:
            redis = run_scenario("redis", scenario_redis_down, base, redis) or redis
        if not redis_ping():
            redis = redis_start()
        if "worker" in only:
            run_scenario("worker", scenario_worker_killed)
        if "database" in only:
            run_scenario("database", scenario_database_dropped, base)
        if "backup" in only:
            run_scenario("backup", scenario_backup_restore)
        if "import" in only:
            run_scenario("import", scenario_import_worker_killed)
    except Exception as error:
        record("setup", "crashed", f"{type(error).__name__}: {error}"[-1500:], ["setup failed"])
    finally:
        for process in reversed(processes):
            stop(process)
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        for name in (DB, RESTORE_DB):
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    failures = [(name, claim) for name, _did, _found, failed in RESULTS for claim in failed]
    print(f"\nFault and load run finished in {time.monotonic() - started:.0f} s\n")
    print("| scenario | what it did | what was lost | claims |")
    print("| --- | --- | --- | --- |")
    for name, did, found, failed in RESULTS:
        print(f"| {name} | {did} | {found} | {'FAILED' if failed else 'held'} |")
    if failures:
        print("\nFailed claims:")
        for name, claim in failures:
            print(f"- {name}: {claim}")
        print(f"\nLogs kept in {WORKDIR}")
        return 1
    shutil.rmtree(WORKDIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
