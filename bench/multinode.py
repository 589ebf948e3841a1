#!/usr/bin/env python
"""Multi-node fault run (issue 23): the app on several "machines" on loopback, under a steady load, while parts fail.

It starts, from Debian's packages on this machine (bench/cluster.py): a PostgreSQL primary and a streaming replica
made with pg_basebackup, pgbouncer (transaction pooling) in front of the primary, two gunicorn web nodes (2 sync
workers each) behind haproxy, Redis, two Celery workers on different queues (w1: default, mail, pdf; w2: purge,
import, ingest) and one beat. The database is migrated and loaded with the demo data through the primary directly.
Then, while threads view the staff customer list (two staff sessions), read the statistics report (an owner,
signed in past the second factor) and submit the public form (each person from a loopback address of their own,
sending again after an error, as a person would), all through haproxy:

  1. web        - web node 1 is killed (SIGKILL of its process group): haproxy marks it down (the refused
                  connection marks it at once; the health check every 500 ms, two failures, would in a second), no
                  request that starts after the kill fails (haproxy sends a request that found no node, and a GET
                  that got no answer, to the other node; a POST in flight gets an error page and the person sends
                  it again), nothing a client was told was stored is missing; the node is started again and serves;
  2. worker     - a purge (batches of 5) and a PDF render are started; each must go to the queue of its kind, and
                  each worker is killed in the middle of its task (SIGKILL: the run still `running` with part of the
                  due customers gone; the render taken and its PDF not written). The workers start again; once the
                  killed run's purge lock has expired, the messages the killed workers had taken and not
                  acknowledged go back to their queues (a worker process with a 3 s visibility timeout stands in
                  for kombu's hour) and are delivered again, not sent again: the killed run is marked interrupted
                  and the next completes it; every due customer is purged exactly once (counts, deletion entries),
                  nothing else is touched; the package has exactly one new PDF file, with the recorded checksum,
                  and the render succeeded once;
  3. beat       - a second beat is started beside the first: a schedule entry due every second (sent to a queue no
                  worker reads, so that every send stays countable in Redis) goes out once a second, not twice;
                  the first beat is then killed and the second takes over once the lock's timeout is past;
  4. replica    - reports (statistics) read the replica (its log counts the connections); the replica is stopped
                  (pg_ctl stop -m fast): every report and every other request still answers (reports read the
                  primary); the replica is started again;
  5. pgbouncer  - pgbouncer is stopped (SIGTERM: immediate shutdown, connections cut) and started again: requests in
                  flight succeed or fail cleanly (an error page, never a hung or cut connection), every request that
                  starts a second after pgbouncer is back succeeds, the workers and the beat are still running;
  6. redis      - Redis (cache, broker, locks) is stopped for 30 s and comes back empty (no persistence: the worst
                  case for the queues): the form, the staff pages and the reports answer throughout, and every
                  letter of the submissions made meanwhile is sent once Redis is back (the workers reconnect; beat's
                  outbox sweeper, every 5 s here, sends what no task was queued for).

Scenarios run in the order web, worker, redis, beat, replica, pgbouncer; a check that takes time (the web node
back in rotation, the letters after the outage, the beat's take-over) runs while the next scenario does. After
them every submission the client was told was stored must be in the database and every letter of them sent. The
table gives per scenario (requests that started while it was under way) the requests sent, the errors the client
saw and what was lost; the run exits non-zero on any loss or failed claim.

Usage:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_mn .venv/bin/python bench/multinode.py [--only NAME ...]

Only DATABASE_URL's base name is used (the database is <base>_<pid>_<random> on the run's own primary, not on
DATABASE_URL's server); every server the run starts is its own, on free loopback ports, with its files in one
temporary directory that is removed at the end (kept, with every log, when a claim failed, or with --keep). The run
is bounded: it stops itself after 10 minutes. As root it runs PostgreSQL and pgbouncer as the `postgres` user. It
needs Debian's postgresql (15), pgbouncer, haproxy and redis-server, and the collected static files (scripts/test
collects them; a run on its own does).
"""

import argparse
import hashlib
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import (
    OWNER,
    REPORT,
    ROOT,
    STAFF,
    STAFF_REGISTER,
    Browser,
    Cluster,
    Load,
    owner_recovery_codes,
    p95_ms,
    public_form,
    wait_for,
)

BASE_NAME = urllib.parse.urlparse(os.environ.get("DATABASE_URL", "postgres:///rekisteri_mn")).path.strip("/")
RUN_LIMIT_SECONDS = 600
PURGE_REGISTER = "multinode-purge"
PDF_INTERACTIONS = 450  # a render of a few seconds on this machine: long enough to be killed in the middle of
RESTORE_OPTIONS = {"visibility_timeout": 3, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
TICK_TASK = "multinode-tick"
SWEEP_TASK = "multinode-letters-sweep"
BEAT_WINDOW = 8
REDIS_OUTAGE = 30
LETTERS_WAIT = 60
W1_KINDS = ["default", "mail", "pdf"]
W2_KINDS = ["purge", "import", "ingest"]
# In this order: a check a scenario leaves for later runs while the next one does (see run_scenarios).
SCENARIOS = ("web", "worker", "redis", "beat", "replica", "pgbouncer")
LABELS = {
    "web": "1. web node killed",
    "worker": "2. workers killed mid-purge and mid-PDF",
    "beat": "3. second beat started",
    "replica": "4. replica stopped",
    "pgbouncer": "5. pgbouncer restarted",
    "redis": f"6. Redis stopped {REDIS_OUTAGE} s",
}

# label -> (what happened, [failed claims], extra losses)
NOTES: dict[str, list[str]] = {}
FAILED: dict[str, list[str]] = {}
LOST: dict[str, list[str]] = {}


def note(label: str, text: str) -> None:
    NOTES.setdefault(label, []).append(text)


def claim(label: str, holds: bool, text: str) -> bool:
    if not holds:
        FAILED.setdefault(label, []).append(text)
    return holds


def lost(label: str, text: str) -> None:
    LOST.setdefault(label, []).append(text)


def errors_of(records) -> list:
    return [record for record in records if not record.ok]


def describe_errors(records) -> str:
    bad = errors_of(records)
    if not bad:
        return "0"
    answered = sum(1 for record in bad if record.status >= 500)
    unanswered = sum(1 for record in bad if record.status == 0)
    other = len(bad) - answered - unanswered
    parts = [f"{answered} error pages (5xx)" if answered else "", f"{unanswered} unanswered" if unanswered else ""]
    parts.append(f"{other} other ({sorted({r.status for r in bad if 0 < r.status < 500})})" if other else "")
    return f"{len(bad)}: " + ", ".join(part for part in parts if part)


# -- setup ------------------------------------------------------------------------------------------------------------


def prepare_data(cluster: Cluster) -> dict:
    """Rows the scenarios need, made in the run's own Django on the primary: a register with customers past their
    retention, a person with many interactions and an access request ready for its answer, the owner's recovery
    codes and two schedule entries of the run's own."""
    cluster.manage(
        "generate_data",
        "--customers",
        "300",
        "--interactions",
        "1500",
        "--register",
        PURGE_REGISTER,
        "--inactive-share",
        "0.6",
    )
    import django

    django.setup()
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from crm.models import Customer, Interaction
    from privacy.requests import services
    from privacy.requests.models import DataSubjectRequest
    from privacy.requests.workflow import request_transition
    from registers.models import Register

    Register.objects.filter(slug=PURGE_REGISTER).update(retention_months=36)
    register = Register.objects.select_related("organisation").get(slug=STAFF_REGISTER)
    person = Customer(
        register=register,
        kind=Customer.Kind.PERSON,
        first_name="Petra",
        last_name="Pdf",
        email="petra.pdf@example.fi",
        city="Helsinki",
    )
    person.full_clean()
    person.save()
    now = timezone.now()
    kinds = [choice for choice, _label in Interaction.Kind.choices]
    Interaction.objects.bulk_create(
        Interaction(
            customer=person,
            kind=kinds[n % len(kinds)],
            occurred_at=now - datetime.timedelta(hours=7 * n),
            subject=f"Yhteydenotto {n}",
            text="Asiakas kysyi palveluista ja tapahtumista. " * (1 + n % 4),
        )
        for n in range(PDF_INTERACTIONS)
    )
    handler = get_user_model().objects.get(username="hki.tourism.handler")
    request, _created = services.request_submit(
        organisation=register.organisation,
        registers=[register],
        all_registers=False,
        data={
            "kind": DataSubjectRequest.Kind.ACCESS,
            "requester_name": "Petra Pdf",
            "requester_email": "petra.pdf@example.fi",
            "language": "fi",
        },
    )
    request = services.request_confirm_email(request=request)
    request = services.request_verify_identity(request=request, actor=handler, method="known_email")
    request = request_transition(request=request, to=DataSubjectRequest.State.IN_PROGRESS, actor=handler)
    services.subject_matches_confirm(
        request=request, actor=handler, register=register, records=[f"customer:{person.code}"]
    )
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    every_five, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.SECONDS)
    # Sent to a queue no worker reads: each send stays in Redis, to be counted.
    PeriodicTask.objects.create(
        name=TICK_TASK,
        task="privacy.tasks.correspondence_sweep",
        interval=every_second,
        kwargs='{"older_than_seconds": 86400}',
        queue=cluster.queue("beatcount"),
    )
    # The outbox sweeper as production schedules it, but every 5 s for letters 10 s old (production: every 5 min,
    # 2 min), so that a run of minutes sees what the broker missed sent.
    PeriodicTask.objects.create(
        name=SWEEP_TASK,
        task="privacy.tasks.correspondence_sweep",
        interval=every_five,
        kwargs='{"older_than_seconds": 10}',
    )
    return {
        "request": request,
        "handler": handler,
        "form": public_form(),
        "codes": owner_recovery_codes(),
    }


def progress(started: float, text: str) -> None:
    print(f"{time.monotonic() - started:5.0f} s  {text}", flush=True)


def start_cluster(cluster: Cluster, started: float) -> dict:
    cluster.postgres_start(replica=True)
    cluster.redis_start()
    progress(started, "PostgreSQL primary and replica, Redis")
    cluster.database_build()
    progress(started, "database migrated, demo data loaded")
    os.environ.update(cluster.script_env)
    sys.path.insert(0, str(ROOT))
    data = prepare_data(cluster)
    built = time.monotonic() - started
    progress(started, "scenario data")
    cluster.pgbouncer_start()
    for n in (1, 2):
        cluster.web_start(n)
    cluster.worker_start("w1", W1_KINDS)
    cluster.worker_start("w2", W2_KINDS)
    cluster.beat_start("beat1")
    for n in (1, 2):
        if not wait_for(lambda n=n: cluster.web_ready(n), 60, 0.3):
            raise RuntimeError(f"web node {n} did not answer; see {cluster.log(f'web{n}')}")
    # /healthz is the node's own liveness (ops/); until it exists, the sign-in page stands in so that the other
    # scenarios still run, and the claim fails.
    health = Browser(f"http://127.0.0.1:{cluster.port['web1']}").request("/healthz").status
    claim("setup", health == 200, f"/healthz answered {health} (haproxy checks /accounts/login/ instead)")
    if health != 200:
        cluster.healthz = "/accounts/login/"
    cluster.haproxy_start()
    if not wait_for(lambda: all(s["status"] == "UP" for s in cluster.servers().values()), 20, 0.2):
        raise RuntimeError(f"haproxy did not see both nodes up: {cluster.servers()}")
    primary_rows = cluster.psql("SELECT count(*) FROM crm_customer")
    streaming = wait_for(lambda: cluster.psql("SELECT count(*) FROM crm_customer", via="replica") == primary_rows, 10)
    claim("setup", streaming, f"the replica does not have the primary's {primary_rows} customers")
    for name in ("w1", "w2"):
        if not wait_for(lambda name=name: cluster.worker_ready(name), 60, 0.3):
            raise RuntimeError(f"worker {name} did not start; see {cluster.log(name)}")
    answer = Browser(cluster.base).request("/accounts/login/")
    request_id = answer.headers.get("x-request-id", "")
    claim("setup", bool(request_id), "the answer through haproxy carries no X-Request-ID")
    progress(started, "pgbouncer, web nodes, haproxy, workers, beat")
    note(
        "setup",
        f"primary :{cluster.port['primary']} and replica :{cluster.port['replica']} (streaming, "
        f"{primary_rows} customers on both), pgbouncer :{cluster.port['pgbouncer']}, Redis :{cluster.port['redis']}, "
        f"web nodes :{cluster.port['web1']} and :{cluster.port['web2']} (2 sync workers each) behind haproxy "
        f":{cluster.port['haproxy']} (check {cluster.healthz}), workers w1 ({', '.join(W1_KINDS)}) and w2 "
        f"({', '.join(W2_KINDS)}), beat1; database built (migrate, demo data) in {built:.0f} s; "
        f"X-Request-ID {request_id or 'missing'}",
    )
    return data


# -- 1. a web node killed ------------------------------------------------------------------------------------------


def scenario_web(cluster: Cluster, load: Load, later: list) -> None:
    label = LABELS["web"]
    time.sleep(0.5)  # the requests in flight at the kill belong to this scenario
    served_before = int(cluster.servers()["web1"]["stot"])
    killed_at = time.monotonic()
    cluster.kill("web1")
    down = wait_for(lambda: cluster.server_status("web1").startswith("DOWN"), 5, 0.05)
    down_after = time.monotonic() - killed_at
    time.sleep(2)
    restarted_at = time.monotonic()
    cluster.web_start(1)
    up_at: list[float] = []

    def watch() -> None:
        if wait_for(lambda: cluster.server_status("web1") == "UP", 60, 0.1):
            up_at.append(time.monotonic())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    records = load.window(label)
    in_flight = [r for r in records if r.started < killed_at < r.finished]
    after_kill = [r for r in records if r.started >= killed_at]
    claim(label, down and down_after <= 3, f"haproxy marked the killed node down after {down_after:.1f} s")
    claim(label, not errors_of(after_kill), f"requests started after the kill failed: {describe_errors(after_kill)}")
    claim(label, len(after_kill) >= 10, f"only {len(after_kill)} requests while the node was away")
    note(
        label,
        f"SIGKILL of node 1; down in haproxy after {down_after:.1f} s; {len(after_kill)} requests served by node 2 "
        f"since the kill; {len(in_flight)} in flight at the kill ({describe_errors(in_flight)} errors, sent again "
        "by the client); node 1 started again",
    )

    def rejoined() -> None:
        watcher.join(timeout=60)
        served = int(cluster.servers()["web1"]["stot"]) - served_before
        claim(
            label, bool(up_at) and served > 0, f"the restarted node is {cluster.server_status('web1')}, served {served}"
        )
        if up_at:
            back = up_at[0] - restarted_at
            note(label, f"node 1 back in rotation {back:.1f} s after its start, {served} requests served since")

    later.append(rejoined)


# -- 2. workers killed in the middle of a purge and a PDF render ---------------------------------------------------


def cutoff(register):
    import datetime

    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    return timezone.now() - relativedelta(months=register.retention_months) - datetime.timedelta(days=1)


def render_lines(cluster: Cluster, task_id: str) -> tuple[int, int, int]:
    """(deliveries, renders that stored the PDF, runs that found it already stored) of one task, from every worker
    log (each worker's restarts append to its log)."""
    received = rendered = skipped = 0
    for name in ("w1", "w2"):
        text = cluster.log(name).read_text(errors="replace") if cluster.log(name).exists() else ""
        received += len(re.findall(rf"\[{task_id}\] received", text))
        rendered += len(re.findall(rf"\[{task_id}\] succeeded in [0-9.]+s: True", text))
        skipped += len(re.findall(rf"\[{task_id}\] succeeded in [0-9.]+s: False", text))
    return received, rendered, skipped


def scenario_worker(cluster: Cluster, load: Load, data: dict) -> None:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from crm.models import Customer, Interaction
    from privacy.requests import services
    from privacy.requests.models import ResponsePackage
    from privacy.retention.models import PurgeRun
    from privacy.retention.purge import purge_run_task
    from registers.models import Register

    label = LABELS["worker"]
    register = Register.objects.get(slug=PURGE_REGISTER)
    due_ids = set(
        Customer.objects.filter(register=register, last_activity_at__lt=cutoff(register)).values_list("pk", flat=True)
    )
    kept_ids = set(Customer.objects.filter(register=register).values_list("pk", flat=True)) - due_ids
    kept_interactions = Interaction.objects.filter(customer_id__in=kept_ids).count()
    packages_dir = cluster.media_dir / "privacy" / "packages"
    pdfs_before = set(packages_dir.glob("*.pdf")) if packages_dir.exists() else set()
    # The purge as the "run now" button or beat sends it; the PDF as the handler's "prepare" queues it after commit.
    purge = purge_run_task.apply_async(kwargs={"register_code": str(register.code), "trigger": "manual"})
    with transaction.atomic():
        package = services.package_build(request=data["request"], actor=data["handler"])
    killed: dict[str, str] = {}  # kind of task -> the worker killed under it
    killed_at: dict[str, float] = {}
    at_kill: dict[str, str] = {}
    queues: dict[str, str] = {}
    ids: dict[str, str] = {}
    taken_at: dict[str, float] = {}
    names = {"privacy.purge.purge_run_task": "purge", "privacy.tasks.package_pdf_render_task": "pdf"}
    deadline = time.monotonic() + 30
    while len(killed) < 2 and time.monotonic() < deadline:
        for message in cluster.unacked():
            kind = names.get(message["task"])
            if kind and kind not in taken_at and (kind != "purge" or message["id"] == purge.id):
                taken_at[kind], queues[kind], ids[kind] = time.monotonic(), message["queue"], message["id"]
        gone = len(due_ids) - Customer.objects.filter(pk__in=due_ids).count()
        ready = {
            "purge": "purge" in taken_at and gone >= 20,
            "pdf": "pdf" in taken_at and time.monotonic() - taken_at["pdf"] >= 0.6,
        }
        for kind, now in ready.items():
            if not now or kind in killed:
                continue
            worker = "w1" if queues[kind].removeprefix(cluster.prefix) in W1_KINDS else "w2"
            cluster.kill(worker)
            killed[kind], killed_at[kind] = worker, time.monotonic()
            if kind == "purge":
                runs = list(PurgeRun.objects.filter(register=register).values_list("status", flat=True))
                purged = len(due_ids) - Customer.objects.filter(pk__in=due_ids).count()
                at_kill[kind] = f"run {'/'.join(runs) or 'missing'}, {purged} of {len(due_ids)} purged"
            else:
                package.refresh_from_db()
                at_kill[kind] = f"PDF {'written' if package.pdf else 'not written'}"
        time.sleep(0.05)
    claim(label, queues.get("purge") == cluster.queue("purge"), f"the purge task went to {queues.get('purge')}")
    claim(label, queues.get("pdf") == cluster.queue("pdf"), f"the PDF task went to {queues.get('pdf')}")
    claim(label, len(killed) == 2, f"only {sorted(killed)} were taken and killed within 30 s")
    # The killed workers start again as production runs them (the messages they held stay taken).
    restarted_at = time.monotonic()
    held = cluster.unacked_since()
    for worker, kinds in (("w1", W1_KINDS), ("w2", W2_KINDS)):
        if not cluster.alive(worker):
            cluster.worker_start(worker, kinds)
    # A third worker process, reading a queue of its own and started with a 3 s visibility timeout, stands in for
    # the hour after which kombu gives a message taken and never acknowledged back to its queue (any worker does
    # it): it gives back what the killed workers held and is stopped as soon as it has, before it could give back a
    # task that is running again. Not before the killed run's lock has expired (in production the hour is far past
    # it): a delivery that found the lock held would end without purging.
    lock_seconds = int(cluster.env["PURGE_LOCK_TIMEOUT_SECONDS"])
    if "purge" in killed_at:
        time.sleep(max(0.0, killed_at["purge"] + lock_seconds + 0.5 - time.monotonic()))
    cluster.worker_start("restorer", ["restore"], transport_options=RESTORE_OPTIONS)
    # A message given back and delivered again keeps its delivery tag; its time of delivery is new.
    given_back = wait_for(lambda: not held.items() & cluster.unacked_since().items(), 30, 0.05)
    cluster.kill("restorer")  # at once: a warm shutdown would go on giving back what runs again meanwhile
    claim(label, given_back, "the killed workers' messages were not given back to their queues")
    finished = (PurgeRun.Status.COMPLETED, PurgeRun.Status.FAILED)
    purge_done = wait_for(lambda: PurgeRun.objects.filter(register=register, status__in=finished).exists(), 60, 0.3)
    pdf_done = wait_for(lambda: ResponsePackage.objects.filter(pk=package.pk).exclude(pdf="").exists(), 60, 0.3)
    recovered_in = time.monotonic() - restarted_at
    # Purge: as faults.py's worker scenario.
    left = Customer.objects.filter(pk__in=due_ids).count()
    orphans = Interaction.objects.filter(customer_id__in=due_ids).count()
    kept_now = Customer.objects.filter(pk__in=kept_ids).count()
    kept_interactions_now = Interaction.objects.filter(customer_id__in=kept_ids).count()
    runs = list(PurgeRun.objects.filter(register=register).order_by("started_at", "pk"))
    statuses = [run.status for run in runs]
    purged_counted = sum(count.purged for run in runs for count in run.counts.filter(kind="customer"))
    deletions = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        action=LogEntry.Action.DELETE,
        object_id__in=due_ids | kept_ids,
    )
    deleted_entries = deletions.count()
    deleted_customers = deletions.values("object_id").distinct().count()
    claim(label, "run running" in at_kill.get("purge", ""), f"the purge was not mid-run at the kill: {at_kill}")
    claim(
        label,
        purge_done and statuses == [PurgeRun.Status.INTERRUPTED, PurgeRun.Status.COMPLETED],
        f"purge runs ended {statuses}, expected the killed one interrupted and the next completed",
    )
    claim(label, purged_counted == len(due_ids), f"the runs counted {purged_counted} purged for {len(due_ids)} due")
    claim(
        label,
        deleted_entries == len(due_ids) == deleted_customers,
        f"{deleted_entries} deletion entries for {deleted_customers} customers, {len(due_ids)} due",
    )
    wrong = left + orphans + (len(kept_ids) - kept_now) + (kept_interactions - kept_interactions_now)
    if wrong:
        lost(label, f"{wrong} purge rows wrongly left or removed")
    # PDF: one file, the recorded checksum, one render.
    package.refresh_from_db()
    pdfs = (set(packages_dir.glob("*.pdf")) if packages_dir.exists() else set()) - pdfs_before
    digest = hashlib.sha256(next(iter(pdfs)).read_bytes()).hexdigest() if len(pdfs) == 1 else ""
    received, rendered, skipped = render_lines(cluster, ids.get("pdf", "-"))
    claim(label, "not written" in at_kill.get("pdf", ""), f"the render was not mid-way at the kill: {at_kill}")
    claim(label, pdf_done and bool(package.pdf), "the package has no PDF")
    matches = digest == package.file_sha256.get("pdf")
    claim(label, len(pdfs) == 1 and matches, f"{len(pdfs)} new PDF files, checksum {'' if matches else 'not '}recorded")
    claim(label, rendered == 1, f"the render succeeded {rendered} times ({received} deliveries, {skipped} no-ops)")
    if not package.pdf:
        lost(label, "the PDF")
    kills = ", ".join(f"{worker} under the {kind} ({at_kill.get(kind)})" for kind, worker in killed.items())
    note(
        label,
        f"purge of {len(due_ids)} due customers (batches of {cluster.env['PURGE_BATCH_SIZE']}) and a PDF of "
        f"{PDF_INTERACTIONS} interactions; killed {kills}"
        f"; the killed workers started again, their messages given back after the {lock_seconds} s purge lock; both "
        f"done {recovered_in:.0f} s after the restart; purge runs "
        f"{', '.join(statuses)}, {purged_counted} purged, {deleted_entries} deletion entries; PDF: {len(pdfs)} file, "
        f"{received} deliveries of its task, {rendered} render",
    )


# -- 3. a second beat ---------------------------------------------------------------------------------------------


def ticks(cluster: Cluster) -> int:
    return int(cluster.redis("llen", cluster.queue("beatcount")) or 0)


def scenario_beat(cluster: Cluster, load: Load, later: list) -> None:
    label = LABELS["beat"]
    claim(label, cluster.alive("beat1"), f"beat1 is not running (see {cluster.log('beat1')})")
    # One beat: the entry is sent about once a second.
    first, started = ticks(cluster), time.monotonic()
    time.sleep(3)
    one_beat, one_seconds = ticks(cluster) - first, time.monotonic() - started
    cluster.beat_start("beat2")
    time.sleep(2)  # beat2 starts up (and, without the lock, would send from now on)
    first, started = ticks(cluster), time.monotonic()
    time.sleep(BEAT_WINDOW)
    sent, seconds = ticks(cluster) - first, time.monotonic() - started
    claim(label, one_beat >= one_seconds - 2, f"one beat sent the 1 s entry {one_beat} times in {one_seconds:.0f} s")
    claim(label, cluster.alive("beat1") and cluster.alive("beat2"), "a beat exited while two ran")
    claim(label, seconds - 3 <= sent <= seconds + 1, f"two beats sent the 1 s entry {sent} times in {seconds:.0f} s")
    note(
        label,
        f"1 s entry: one beat sent it {one_beat} times in {one_seconds:.0f} s, two beats {sent} in {seconds:.0f} s",
    )
    # Failover: the first beat dies; the second sends once the lock's timeout has passed. Checked after the next
    # scenario, which runs meanwhile.
    cluster.kill("beat1")
    killed_at, before = time.monotonic(), ticks(cluster)
    lock_seconds = int(cluster.env["BEAT_LOCK_TIMEOUT_SECONDS"])

    def takeover() -> None:
        time.sleep(max(0.0, killed_at + lock_seconds + 2 - time.monotonic()))
        start = ticks(cluster)
        time.sleep(3)
        resumed = ticks(cluster) - start
        claim(label, resumed >= 2 and cluster.alive("beat2"), f"beat2 sent {resumed} in 3 s after beat1 was killed")
        note(
            label,
            f"beat1 killed: beat2 sent {ticks(cluster) - before} in the {time.monotonic() - killed_at:.0f} s since "
            f"(lock timeout {lock_seconds} s), {resumed} in the last 3 s",
        )

    later.append(takeover)


# -- 4. the replica stopped ----------------------------------------------------------------------------------------


def scenario_replica(cluster: Cluster, load: Load, later: list) -> None:
    label = LABELS["replica"]
    connections, started = cluster.replica_connections(), time.monotonic()
    time.sleep(2.5)
    reports_before = [r for r in load.window(label) if r.kind == "report" and r.ok]
    read_replica = cluster.replica_connections() - connections
    stopped_at = time.monotonic()
    cluster.pg_stop("replica", "fast")
    time.sleep(5)
    cluster.pg_start("replica")
    back_at = time.monotonic()
    records = load.window(label)
    during = [r for r in records if r.kind == "report" and stopped_at <= r.started < back_at]
    claim(
        label,
        read_replica >= max(1, len(reports_before) // 2),
        f"{len(reports_before)} reports before the stop made {read_replica} connections to the replica",
    )
    claim(label, not errors_of(records), f"requests failed: {describe_errors(records)}")
    claim(label, len(during) >= 5 and not errors_of(during), f"{len(during)} reports without the replica")
    note(
        label,
        f"{len(reports_before)} reports in {stopped_at - started:.1f} s before the stop made {read_replica} replica "
        f"connections; pg_ctl stop -m fast; {len(during)} reports in the {back_at - stopped_at:.0f} s without it "
        f"(p95 {p95_ms([r.finished - r.started for r in during]):.0f} ms); replica started again",
    )
    connections_back = cluster.replica_connections()

    def reports_back() -> None:
        note(label, f"{cluster.replica_connections() - connections_back} replica connections since it came back")

    later.append(reports_back)


# -- 5. pgbouncer restarted -------------------------------------------------------------------------------------------


def scenario_pgbouncer(cluster: Cluster, load: Load, later: list) -> None:
    label = LABELS["pgbouncer"]
    time.sleep(0.5)
    stopped_at = time.monotonic()
    cluster.stop("pgbouncer", signal.SIGTERM)  # pgbouncer 1.18: immediate shutdown, every connection cut
    cluster.pgbouncer_start()
    back_at = time.monotonic()
    time.sleep(4)
    records = load.window(label)
    affected = [r for r in records if r.finished >= stopped_at and r.started < back_at + 1]
    later_ones = [r for r in records if r.started >= back_at + 1]
    unanswered = sum(1 for r in records if r.status == 0)
    claim(label, not unanswered, f"{unanswered} requests got no answer (hung or cut)")
    claim(
        label, not errors_of(later_ones), f"requests a second after the restart failed: {describe_errors(later_ones)}"
    )
    claim(label, len(later_ones) >= 10, f"only {len(later_ones)} requests after the restart")
    survivors = {name: cluster.alive(name) for name in ("w1", "w2", *processes_expected(cluster))}
    claim(label, all(survivors.values()), f"processes that exited on the restart: {survivors}")
    note(
        label,
        f"pgbouncer away for {back_at - stopped_at:.1f} s (SIGTERM, started again); {len(affected)} requests in "
        f"flight or started within a second of it: {describe_errors(affected)} errors; {len(later_ones)} later "
        f"requests: {describe_errors(later_ones)} errors",
    )


def processes_expected(cluster: Cluster) -> list[str]:
    """The beats that should be running: beat1 until scenario 3 kills it, beat2 once started."""
    return ["beat2"] if "beat2" in cluster.services else ["beat1"]


# -- 6. Redis stopped ----------------------------------------------------------------------------------------------


def letters_unsent(emails: list[str]) -> int:
    from privacy.requests.models import Correspondence

    return Correspondence.objects.filter(request__requester_email__in=emails, sent_at__isnull=True).count()


def scenario_redis(cluster: Cluster, load: Load, later: list) -> None:
    from privacy.requests.models import Correspondence

    label = LABELS["redis"]
    stopped_at = time.monotonic()
    cluster.redis_stop()
    time.sleep(REDIS_OUTAGE)
    cluster.redis_start()
    back_at = time.monotonic()
    during = [r for r in load.window(label) if r.started < back_at]
    emails = [s.email for s in load.submissions if s.label == label and s.accepted]
    claim(label, not errors_of(during), f"requests during the outage failed: {describe_errors(during)}")
    for kind in ("staff list", "report", "form post"):
        claim(label, any(r.kind == kind and r.ok for r in during), f"no {kind} answered during the outage")
    claim(label, len(emails) >= 5, f"only {len(emails)} submissions accepted during the outage")
    note(
        label,
        f"{len(during)} requests in the {back_at - stopped_at:.0f} s without Redis (staff list p95 "
        f"{p95_ms([r.finished - r.started for r in during if r.kind == 'staff list']):.0f} ms), {len(emails)} "
        f"submissions accepted, {letters_unsent(emails)} of their letters unsent when Redis came back",
    )

    def letters_sent() -> None:
        queued = Correspondence.objects.filter(request__requester_email__in=emails).count()
        sent = wait_for(lambda: letters_unsent(emails) == 0, max(5.0, back_at + LETTERS_WAIT - time.monotonic()), 0.5)
        alive = {
            name: cluster.alive(name) for name in ("w1", "w2", "beat2" if "beat2" in cluster.services else "beat1")
        }
        claim(label, queued >= len(emails), f"{queued} letters for {len(emails)} submissions")
        claim(label, sent, f"{letters_unsent(emails)} of {queued} letters unsent {LETTERS_WAIT} s after Redis was back")
        claim(label, all(alive.values()), f"processes that did not survive the outage: {alive}")
        note(
            label,
            f"{queued} letters queued meanwhile, {'all' if sent else 'not all'} sent "
            f"{time.monotonic() - back_at:.0f} s after Redis came back; workers and beat "
            f"{'still running' if all(alive.values()) else alive}",
        )

    later.append(letters_sent)


# -- the run -------------------------------------------------------------------------------------------------------


def final_checks(load: Load, labels: list[str]) -> None:
    from privacy.requests.models import DataSubjectRequest

    accepted = [s for s in load.submissions if s.accepted]
    emails = [s.email for s in accepted]
    wait_for(lambda: letters_unsent(emails) == 0, 30, 0.5)
    stored = set(
        DataSubjectRequest.objects.filter(requester_email__in=emails).values_list("requester_email", flat=True)
    )
    for label in labels:
        mine = [s for s in accepted if s.label == label]
        missing = [s.email for s in mine if s.email not in stored]
        if missing:
            lost(label, f"{len(missing)} of {len(mine)} accepted submissions")
        unsent = letters_unsent([s.email for s in mine])
        if unsent:
            lost(label, f"{unsent} letters unsent")
    given_up = [s for s in load.submissions if not s.accepted and s.attempts >= 4]
    claim("all", not given_up, f"{len(given_up)} submissions were refused four times")
    addresses = len({s.address for s in load.submissions})
    note(
        "all",
        f"{len(accepted)} submissions accepted, {len(stored)} stored; they came from {addresses} addresses through "
        "haproxy, five each (the app sees X-Forwarded-For's address, or the form's per-address limit would refuse)",
    )


def run_scenarios(cluster: Cluster, load: Load, data: dict, only: list[str], started: float) -> None:
    # Each scenario may leave a check to run once the next scenario is done (it runs meanwhile).
    later: list = []
    for name in only:
        waiting, later = later, []
        load.mark(LABELS[name])
        progress(started, LABELS[name])
        try:
            if name == "web":
                scenario_web(cluster, load, later)
            elif name == "worker":
                scenario_worker(cluster, load, data)
            elif name == "beat":
                scenario_beat(cluster, load, later)
            elif name == "replica":
                scenario_replica(cluster, load, later)
            elif name == "redis":
                scenario_redis(cluster, load, later)
            elif name == "pgbouncer":
                scenario_pgbouncer(cluster, load, later)
        except Exception as error:  # a scenario that crashes is a failed claim; the others still run
            claim(LABELS[name], False, f"crashed: {type(error).__name__}: {error}"[:500])
        for check in waiting:
            check()
    load.mark("after")
    for check in later:
        check()


def main() -> int:
    parser = argparse.ArgumentParser(description="Multi-node fault run (issue 23), loopback only.")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory and logs even if all held")
    options = parser.parse_args()
    only = [name for name in SCENARIOS if name in (options.only or SCENARIOS)]

    def bounded(_signum, _frame):
        raise TimeoutError(f"the run was stopped after {RUN_LIMIT_SECONDS} s")

    signal.signal(signal.SIGALRM, bounded)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.alarm(RUN_LIMIT_SECONDS)
    started = time.monotonic()
    cluster = Cluster("multinode", BASE_NAME or "rekisteri_mn")
    print(f"Multi-node run {cluster.suffix}: database {cluster.db}, files in {cluster.workdir}", flush=True)
    load = None
    labels = ["baseline", *(LABELS[name] for name in only), "after"]
    try:
        data = start_cluster(cluster, started)
        staff = [Browser(cluster.base).sign_in(*STAFF) for _ in range(2)]
        owner = Browser(cluster.base).sign_in(*OWNER, recovery_code=data["codes"][0])
        claim("setup", owner.request(REPORT).status == 200, "the owner cannot read the statistics report")
        load = Load(cluster.base, data["form"], STAFF_REGISTER, staff, owner)
        load.mark("baseline")
        load.start()
        time.sleep(3)
        run_scenarios(cluster, load, data, only, started)
        time.sleep(1)
        load.stop()
        progress(started, "final checks")
        final_checks(load, labels)
    except Exception as error:
        claim("setup", False, f"crashed: {type(error).__name__}: {error}"[-1500:])
    finally:
        signal.alarm(0)
        if load is not None:
            load.stop()
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        cluster.close(keep=bool(FAILED or LOST) or options.keep)
    return report(load, labels, cluster, time.monotonic() - started)


def report(load: Load | None, labels: list[str], cluster: Cluster, seconds: float) -> int:
    print(f"\nMulti-node fault run finished in {seconds:.0f} s\n")
    print("| scenario | requests sent | errors seen by the client | data lost | claims |")
    print("| --- | --- | --- | --- | --- |")
    records = load.records if load is not None else []
    rows = (["setup"] if "setup" in FAILED else []) + [labels[0], *sorted(labels[1:-1]), labels[-1]]
    for label in rows:
        mine = [r for r in records if r.label == label]
        verdict = "FAILED" if FAILED.get(label) or LOST.get(label) else "held"
        print(
            f"| {label} | {len(mine)} | {describe_errors(mine)} | {'; '.join(LOST.get(label, [])) or 'nothing'} | "
            f"{verdict} |"
        )
    every_loss = "; ".join(text for texts in LOST.values() for text in texts) or "nothing"
    verdict = "FAILED" if FAILED or LOST else "held"
    print(f"| all | {len(records)} | {describe_errors(records)} | {every_loss} | {verdict} |")
    print()
    for label in ["setup", *rows, "all"]:
        for text in NOTES.get(label, []):
            print(f"- {label}: {text}")
    if FAILED or LOST:
        print("\nFailed claims:")
        for label, texts in FAILED.items():
            for text in texts:
                print(f"- {label}: {text}")
        for label, texts in LOST.items():
            for text in texts:
                print(f"- {label}: lost {text}")
        print(f"\nLogs kept in {cluster.workdir}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
