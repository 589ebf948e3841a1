#!/usr/bin/env python
"""Fault and load run (issue 8): the app under gunicorn on PostgreSQL and Redis, loopback only.

Scenarios, each bounded in requests and seconds:
  1. load      - the staff list page and the public form under a steady load (req/s, p95);
  2. flood     - real submissions, then a flood of the public form from one address: rate limiting
                 answers 429, every real submission is kept, the staff list page stays usable;
  3. redis     - Redis is stopped while people submit the form: every request is stored, and the
                 outbox sweeper sends what was missed once Redis is back;
  4. worker    - a Celery worker is killed in the middle of a purge run: the next run completes it,
                 nothing is half-deleted and nothing is purged twice;
  5. database  - every PostgreSQL connection of the app is terminated under load: no 500 afterwards;
  6. backup    - backup and restore into a fresh database: row counts and checksums are equal.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/faults.py
It creates and drops its own databases (rekisteri_faults*) and runs its own Redis on port 6391.
Exit status 0 only if nothing was lost.
"""

import concurrent.futures
import html
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ADMIN_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PARSED = urllib.parse.urlparse(ADMIN_URL)
DB = "rekisteri_faults"
RESTORE_DB = "rekisteri_faults_restore"
REDIS_PORT = 6391
STAFF = ("hki.tourism.staff", "hki.tourism.staff-Demo-2026")
STAFF_REGISTER = "helsinki-tourism-convention"
PURGE_REGISTER = "faults-purge"

ENV = {
    **os.environ,
    "DATABASE_URL": PARSED._replace(path=f"/{DB}").geturl(),
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "SECRET_KEY": "fault-run-secret-key-that-is-long-enough-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "HTTPS": "false",
    "CELERY_QUEUE": "faults",
    "PURGE_LOCK_TIMEOUT_SECONDS": "10",
    "PURGE_BATCH_SIZE": "20",
    "EMAIL_URL": "dummymail://",
    "LOG_LEVEL": "ERROR",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}
ENV.pop("DEBUG", None)
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))

# (scenario, what it did, what was lost, number of things lost)
RESULTS: list[tuple[str, str, str, int]] = []
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


def start(command: list[str], env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    processes.append(process)
    return process


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_start() -> subprocess.Popen:
    process = start(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"]
    )
    for _ in range(50):
        if (
            subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, check=False).returncode
            == 0
        ):
            return process
        time.sleep(0.1)
    raise RuntimeError("redis did not start")


class Browser:
    """A cookie-keeping HTTP client that fills in Django's CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

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
        except (urllib.error.URLError, ConnectionError, TimeoutError):
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


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) >= 20 else max(values) * 1000


def hammer(function, count: int, threads: int) -> list:
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _i: function(), range(count)))


def setup() -> None:
    for name in (DB, RESTORE_DB):
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
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
    from privacy.models import DataSubjectRequest

    return DataSubjectRequest.objects.filter(requester_email__in=emails).count()


def scenario_load(base: str) -> None:
    staff = Browser(base)
    staff.sign_in(*STAFF)
    list_path = f"/crm/{STAFF_REGISTER}/"
    staff.request(list_path)
    started = time.perf_counter()
    results = hammer(lambda: staff.request(list_path), 120, 4)
    elapsed = time.perf_counter() - started
    ok = [r for r in results if r[0] == 200]
    RESULTS.append(
        (
            "load: staff list page",
            f"120 GETs on 4 threads: {len(ok) / elapsed:.0f} req/s, p95 {p95([r[2] for r in ok]):.0f} ms",
            f"{len(results) - len(ok)} failed",
            len(results) - len(ok),
        )
    )
    path, slug = public_form_path()
    form = Browser(base)
    started = time.perf_counter()
    statuses = [form.post(path, submission(f"load{i}@example.fi", slug)) for i in range(15)]
    elapsed = time.perf_counter() - started
    stored = requests_for([f"load{i}@example.fi" for i in range(15)])
    RESULTS.append(
        (
            "load: public form",
            f"15 submissions (GET + POST each): {15 / elapsed:.1f} req/s, p95 {p95([s[2] for s in statuses]):.0f} ms",
            f"{15 - stored} lost",
            15 - stored,
        )
    )


def scenario_flood(base: str) -> None:
    path, slug = public_form_path()
    real = [f"real{i}@example.fi" for i in range(3)]
    person = Browser(base)
    for email in real:
        person.post(path, submission(email, slug))
    staff = Browser(base)
    staff.sign_in(*STAFF)
    robot = Browser(base)
    token = robot.token(path)
    payload = {**submission("flood@example.fi", slug), "csrfmiddlewaretoken": token}
    latencies: list[float] = []
    flooding = True

    def staff_reads():
        while flooding:
            status, _text, elapsed = staff.request(f"/crm/{STAFF_REGISTER}/")
            if status == 200:
                latencies.append(elapsed)

    with concurrent.futures.ThreadPoolExecutor(1) as reader:
        reading = reader.submit(staff_reads)
        statuses = hammer(lambda: robot.request(path, payload)[0], 300, 6)
        flooding = False
        reading.result()
    limited = statuses.count(429)
    kept = requests_for(real)
    RESULTS.append(
        (
            "flood: public form from one address",
            f"300 POSTs on 6 threads: {limited} answered 429; staff list p95 during flood "
            f"{p95(latencies):.0f} ms over {len(latencies)} reads",
            f"{len(real) - kept} of {len(real)} real submissions lost; {statuses.count(500)} errors",
            len(real) - kept + statuses.count(500),
        )
    )


def scenario_redis_down(base: str, redis: subprocess.Popen) -> subprocess.Popen:
    path, slug = public_form_path()
    emails = [f"noredis{i}@example.fi" for i in range(5)]
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True, check=False)
    redis.wait(timeout=10)
    person = Browser(base)
    statuses = [person.post(path, submission(email, slug))[0] for email in emails]
    stored = requests_for(emails)
    redis = redis_start()
    from privacy.tasks import correspondence_sweep

    swept = correspondence_sweep(older_than_seconds=0)
    RESULTS.append(
        (
            "redis: stopped during submissions",
            f"5 submissions while Redis was down answered {sorted(set(statuses))}; after the restart the "
            f"outbox sweeper sent the {swept} messages no worker had sent",
            f"{len(emails) - stored} lost",
            len(emails) - stored,
        )
    )
    return redis


def scenario_worker_killed() -> None:
    from crm.models import Customer, Interaction
    from privacy.models import PurgeRun
    from privacy.purge import purge_run_task
    from registers.models import Register

    register = Register.objects.get(slug=PURGE_REGISTER)
    due = Customer.objects.filter(register=register, last_activity_at__lt=cutoff(register))
    due_ids = set(due.values_list("pk", flat=True))
    kept_ids = set(Customer.objects.filter(register=register).values_list("pk", flat=True)) - due_ids
    kept_interactions = Interaction.objects.filter(customer_id__in=kept_ids).count()
    worker_command = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "--pool=solo", "-Q", "faults"]
    worker = start(worker_command)
    time.sleep(4)
    purge_run_task.apply_async(kwargs={"register_code": str(register.code), "trigger": "manual"}, queue="faults")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        remaining = Customer.objects.filter(pk__in=due_ids).count()
        if remaining < len(due_ids) - 20:
            break
        time.sleep(0.05)
    stop(worker, signal.SIGKILL)
    after_kill = Customer.objects.filter(pk__in=due_ids).count()
    time.sleep(11)  # the lock of the killed run expires (PURGE_LOCK_TIMEOUT_SECONDS)
    worker = start(worker_command)
    purge_run_task.apply_async(kwargs={"register_code": str(register.code), "trigger": "manual"}, queue="faults")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and Customer.objects.filter(pk__in=due_ids).exists():
        time.sleep(0.2)
    stop(worker)
    left = Customer.objects.filter(pk__in=due_ids).count()
    orphans = Interaction.objects.filter(customer_id__in=due_ids).count()
    kept_now = Customer.objects.filter(pk__in=kept_ids).count()
    kept_interactions_now = Interaction.objects.filter(customer_id__in=kept_ids).count()
    runs = PurgeRun.objects.filter(register=register).order_by("started_at")
    purged_total = sum(count.purged for run in runs for count in run.counts.filter(kind="customer"))
    RESULTS.append(
        (
            "worker: killed during a purge run",
            f"{len(due_ids)} customers due; {len(due_ids) - after_kill} purged before SIGKILL, the rest by the next "
            f"run ({runs.count()} runs: {', '.join(r.status for r in runs)}); purged counted {purged_total}",
            f"{left} due customers left, {orphans} orphaned interactions, "
            f"{len(kept_ids) - kept_now} wrongly purged customers, {kept_interactions - kept_interactions_now} lost "
            "interactions of kept customers",
            left + orphans + (len(kept_ids) - kept_now) + (kept_interactions - kept_interactions_now),
        )
    )


def cutoff(register):
    import datetime

    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    return timezone.now() - relativedelta(months=register.retention_months) - datetime.timedelta(days=1)


def scenario_database_dropped(base: str) -> None:
    staff = Browser(base)
    staff.sign_in(*STAFF)
    outcomes: list[tuple[float, int]] = []
    started = time.perf_counter()

    def read():
        status, _text, _elapsed = staff.request(f"/crm/{STAFF_REGISTER}/")
        outcomes.append((time.perf_counter() - started, status))

    dropped_at = None
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = []
        for i in range(160):
            futures.append(pool.submit(read))
            if i == 60:
                time.sleep(0.5)
                dropped_at = time.perf_counter() - started
                terminated = psql(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    f"WHERE datname = '{DB}' AND pid <> pg_backend_pid()"
                )
            time.sleep(0.01)
        for future in futures:
            future.result()
    after = [status for at, status in outcomes if at > dropped_at + 1.0]
    errors_after = sum(1 for status in after if status >= 500 or status == 0)
    during = sum(1 for at, status in outcomes if dropped_at <= at <= dropped_at + 1.0 and status >= 500)
    RESULTS.append(
        (
            "database: connections terminated under load",
            f"160 GETs on 4 threads; {terminated} backends terminated after 60; {during} errors within 1 s of the "
            f"drop, {len(after)} requests after it",
            f"{errors_after} errors after the drop",
            errors_after,
        )
    )


def scenario_backup_restore() -> None:
    directory = Path(tempfile.mkdtemp(prefix="rekisteri-faults-"))
    try:
        manage("backup", "--directory", str(directory), "--no-prune")
        dump = next(directory.glob("*.dump"))
        psql(f"CREATE DATABASE {RESTORE_DB}")
        manage("restore", str(dump), "--database-name", RESTORE_DB, "--noinput")
        tables = psql(
            "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'", DB
        ).split()
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
        RESULTS.append(
            (
                "backup: pg_dump and restore into a fresh database",
                f"{len(tables)} tables, {rows} rows compared by count and md5 checksum",
                f"{len(differing)} tables differ {differing or ''}".strip(),
                len(differing),
            )
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    started = time.monotonic()
    redis = redis_start()
    try:
        setup()
        port = free_port()
        start([str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4"])
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if Browser(base).request("/accounts/login/")[0] == 200:
                break
            time.sleep(0.2)
        scenario_load(base)
        scenario_flood(base)
        redis = scenario_redis_down(base, redis)
        scenario_worker_killed()
        scenario_database_dropped(base)
        scenario_backup_restore()
    finally:
        for process in reversed(processes):
            stop(process)
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        for name in (DB, RESTORE_DB):
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(f"\nFault and load run finished in {time.monotonic() - started:.0f} s\n")
    print("| scenario | what it did | what was lost |")
    print("| --- | --- | --- |")
    for name, did, lost, _count in RESULTS:
        print(f"| {name} | {did} | {lost} |")
    return 1 if any(count for *_rest, count in RESULTS) else 0


if __name__ == "__main__":
    sys.exit(main())
