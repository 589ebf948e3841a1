"""Benchmark the tamper-evident audit trail (issue 22): what a link costs a writer, and how fast a trail verifies.

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_chain
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_chain .venv/bin/python bench/bench_audit_chain.py

On demand, never in CI. The database is migrated if needed and, the first time, given a background trail
(`generate_data --log-entries`, 200,000 by default, each linked). Then, in this process:

1. one access entry at a time (`log_access`, as a page view writes it), with the chain and with its signals
   disconnected: median and 95th percentile per write;
2. 1,000 entries in one `chained_bulk_create` against a plain `bulk_create` (an import's chunk);
3. writers in parallel threads, each with its own connection: entries per second with the chain's head lock;
4. `audit_verify` of the whole `auditlog.logentry` chain: seconds and rows per second.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for name, value in {
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "TOTP_ENCRYPTION_KEY": "dGVzdC10b3RwLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=",
    "ARCHIVE_ENCRYPTION_KEY": "dGVzdC1hcmNoaXZlLWtleS1ub3QtZm9yLXByb2R1Y3Q=",
    "ALLOWED_HOSTS": "localhost,testserver",
    "SITE_URL": "http://localhost",
    "HTTPS": "false",
}.items():
    os.environ.setdefault(name, value)
os.environ.pop("DEBUG", None)

BACKGROUND_SLUG = "bench-chain-background"


def background(log_entries: int) -> None:
    from registers.models import Register

    if Register.objects.filter(slug=BACKGROUND_SLUG).exists() or not log_entries:
        return
    started = time.monotonic()
    steps = (["--customers", "2000", "--interactions", "0"], ["--users", "10"], ["--log-entries", str(log_entries)])
    for flags in steps:
        command = [sys.executable, "manage.py", "generate_data", "--register", BACKGROUND_SLUG, *flags]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"background trail filled in {time.monotonic() - started:.0f} s", flush=True)


def _request(user, path="/crm/bench/customers/"):
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    request.user = user
    return request


def _quantiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"median {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms"


def single_writes(customer, user, n: int) -> None:
    from auditlog.models import LogEntry
    from django.db.models.signals import post_save

    from registers import audit_chain
    from registers.access_log import log_access

    def timed() -> list[float]:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            log_access(_request(user), customer)
            times.append(time.perf_counter() - started)
        return times

    chained = timed()
    post_save.disconnect(sender=LogEntry, dispatch_uid="audit_chain_save_auditlog.logentry")
    try:
        plain = timed()
    finally:
        post_save.connect(audit_chain._saved, sender=LogEntry, dispatch_uid="audit_chain_save_auditlog.logentry")
        # The unlinked entries of the comparison go, with the chain recording nothing about them.
        LogEntry.objects.filter(pk__in=LogEntry.objects.order_by("-pk").values("pk")[:n]).delete()
    print(f"1. one access entry with its link:    {_quantiles(chained)}")
    print(f"   one access entry without the chain: {_quantiles(plain)}")


def bulk_writes(customer, user, n: int) -> None:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from registers.audit_chain import chained_bulk_create

    content_type = ContentType.objects.get_for_model(customer)

    def entries():
        return [
            LogEntry(
                content_type=content_type,
                object_pk=str(customer.pk),
                object_id=customer.pk,
                object_repr="bench",
                action=LogEntry.Action.ACCESS,
                actor=user,
                additional_data={"register": customer.register_id},
            )
            for _ in range(n)
        ]

    started = time.perf_counter()
    chained_bulk_create(LogEntry, entries())
    chained = time.perf_counter() - started
    started = time.perf_counter()
    plain = LogEntry.objects.bulk_create(entries())
    unlinked = time.perf_counter() - started
    LogEntry.objects.filter(pk__in=[e.pk for e in plain]).delete()
    print(f"2. {n} entries in one chained_bulk_create: {chained * 1000:.0f} ms; plain: {unlinked * 1000:.0f} ms")


def parallel_writes(customer, user, threads: int, each: int) -> None:
    from django.db import connections

    from registers.access_log import log_access

    barrier = threading.Barrier(threads)

    def write():
        barrier.wait()
        for _ in range(each):
            log_access(_request(user), customer)
        connections.close_all()

    workers = [threading.Thread(target=write) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    print(f"3. {threads} writers in parallel, {each} entries each: {threads * each / elapsed:.0f} entries/s")


def verify() -> None:
    from registers import audit_chain

    started = time.perf_counter()
    reports, _anchors = audit_chain.audit_verify(["auditlog.logentry"], with_anchors=False)
    elapsed = time.perf_counter() - started
    report = reports[0]
    status = "ok" if report.ok else f"BROKEN: {report.problems[:3]}"
    print(
        f"4. audit_verify of auditlog.logentry: {report.links} links, {report.rows} rows in {elapsed:.1f} s "
        f"({report.rows / elapsed:,.0f} rows/s), {status}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-entries", type=int, default=200_000, help="background trail (first run only)")
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    background(args.log_entries)

    from crm.models import Customer
    from tests.factories import UserFactory

    customer = Customer.objects.filter(register__slug=BACKGROUND_SLUG).first()
    user = UserFactory(username=f"bench-chain-{int(time.time())}")
    single_writes(customer, user, args.writes)
    bulk_writes(customer, user, 1000)
    parallel_writes(customer, user, args.threads, args.writes // args.threads)
    verify()


if __name__ == "__main__":
    main()
