"""Benchmark the retention preview and purge run on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres rekisteri_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench DEBUG=1 .venv/bin/python bench/bench_purge.py

Fills a register with `manage.py generate_data --customers 100000 --interactions 1000000 --inactive-share 0.3`
(in a separate process, so this process's peak memory is the purge's own), then times the preview counts and
one purge run, counting the queries of every batch. Targets (issue 7): run < 2 min, peak memory < 300 MB,
constant queries per batch, preview < 2 s. Run again with --fresh to regenerate the data.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# No Redis needed: the lock falls back to the local cache when PURGE_LOCK_URL is empty.
os.environ.setdefault("PURGE_LOCK_URL", "")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from crm.models import Customer, Interaction  # noqa: E402
from privacy.retention.models import PurgeCount, PurgeRun  # noqa: E402
from privacy.retention.policies import retention_preview  # noqa: E402
from privacy.retention.purge import purge_run  # noqa: E402
from registers.models import Register  # noqa: E402

SLUG = "bench-purge"


def generate(customers: int, interactions: int, share: float) -> None:
    command = [
        sys.executable,
        "manage.py",
        "generate_data",
        "--customers",
        str(customers),
        "--interactions",
        str(interactions),
        "--inactive-share",
        str(share),
        "--register",
        SLUG,
    ]
    subprocess.run(command, cwd=BASE_DIR, check=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--inactive-share", type=float, default=0.3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--fresh", action="store_true", help="delete the benchmark register's data first")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run the benchmark on PostgreSQL (DATABASE_URL)"

    call_command("migrate", verbosity=0)
    register = Register.objects.filter(slug=SLUG).first()
    if args.fresh and register is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM crm_interaction WHERE customer_id IN (SELECT id FROM crm_customer WHERE register_id = %s)",
                [register.pk],
            )
            cursor.execute("DELETE FROM crm_customer WHERE register_id = %s", [register.pk])
    if register is None or args.fresh or not Customer.objects.filter(register=register).exists():
        started = time.monotonic()
        generate(args.customers, args.interactions, args.inactive_share)
        print(f"generate_data: {time.monotonic() - started:.1f} s")
        register = Register.objects.get(slug=SLUG)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    customers = Customer.objects.filter(register=register).count()
    interactions = Interaction.objects.filter(customer__register=register).count()
    months = register.retention_months
    print(f"register {SLUG}: {customers} customers, {interactions} interactions, retention {months} months")

    timings = []
    for _ in range(3):
        started = time.monotonic()
        rows = retention_preview(register=register)
        timings.append(time.monotonic() - started)
    row = rows[0]
    print(
        f"preview counts: due {row.due}, would purge {row.purgeable}, held {row.held}; "
        f"{min(timings):.2f} s best, {max(timings):.2f} s worst of 3"
    )

    counter = QueryCounter()
    per_batch: list[int] = []
    batch_seconds: list[float] = []
    mark = {"queries": 0, "time": time.monotonic()}

    def on_batch(**kwargs):
        per_batch.append(counter.count - mark["queries"])
        batch_seconds.append(time.monotonic() - mark["time"])
        mark["queries"] = counter.count
        mark["time"] = time.monotonic()

    before = peak_mb()
    started = time.monotonic()
    with connection.execute_wrapper(counter):
        run = purge_run(
            trigger=PurgeRun.Trigger.COMMAND, register=register, batch_size=args.batch_size, on_batch=on_batch
        )
    elapsed = time.monotonic() - started
    count = PurgeCount.objects.get(run=run, kind="customer")
    print(
        f"purge run: {run.status}, {count.purged} customers and {count.cascaded} purged in {elapsed:.1f} s, "
        f"{run.batches} batches of up to {args.batch_size or 'PURGE_BATCH_SIZE'}"
    )
    full = per_batch[:-1] or per_batch
    print(
        f"queries per batch: min {min(full)}, median {statistics.median(full):.0f}, max {max(full)} "
        f"(last, partial batch: {per_batch[-1]}); total {counter.count}"
    )
    print(f"seconds per batch: median {statistics.median(batch_seconds):.3f}, max {max(batch_seconds):.3f}")
    print(f"peak memory: {peak_mb():.0f} MB (before the run {before:.0f} MB)")
    print(f"customers left: {Customer.objects.filter(register=register).count()}")


if __name__ == "__main__":
    main()
