"""Benchmark the register owner's audit screens and the access-review facts on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_audit
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_audit \\
        SECRET_KEY=$(python3 -c 'print("x"*60)') ALLOWED_HOSTS=localhost HTTPS=false
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/bench_audit.py --customers 20000 --entries 300000

Builds two registers of customers with a change trail (create and update entries,
a share of customers deleted) and access entries, then times what the owner's
screens run: the first page and the count of the change list (live and deleted
rows of the register), of the access list, of the login log, and the review
facts (last access per user). Run again with --fresh to rebuild the data.

Measured on the project's 2-core machine (PostgreSQL 15, 300,000 log entries, 2 x 20,000
customers): change list first page 20 ms, its count 120 ms; access list first page 4 ms,
count 52 ms; login log first page 2 ms; review facts for 50 users 71 ms.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from auditlog.models import LogEntry  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.models import Customer  # noqa: E402
from registers import audit  # noqa: E402
from registers.models import Organisation, Register  # noqa: E402
from registers.services import register_role_groups_ensure  # noqa: E402

SLUGS = ("bench-audit-a", "bench-audit-b")
BATCH = 5000


def build(customers: int, entries: int) -> None:
    rng = random.Random(4)
    organisation, _ = Organisation.objects.get_or_create(name_fi="Bench-organisaatio")
    users = [get_user_model().objects.get_or_create(username=f"bench{i}")[0] for i in range(50)]
    ct = ContentType.objects.get_for_model(Customer)
    now = timezone.now()
    for slug in SLUGS:
        register = Register.objects.create(
            slug=slug,
            organisation=organisation,
            name_fi=slug,
            name_sv=slug,
            name_en=slug,
            owner="x",
            purposes="x",
            legal_bases=["e"],
            data_categories="x",
        )
        register_role_groups_ensure(register=register)
        rows = [
            Customer(register=register, kind=Customer.Kind.ORGANISATION, organisation_name=f"Yritys {slug} {i}")
            for i in range(customers)
        ]
        for start in range(0, len(rows), BATCH):
            Customer.objects.bulk_create(rows[start : start + BATCH])
        pks = list(register.customers.values_list("pk", flat=True))
        log = []
        for n in range(entries // 2):
            pk = rng.choice(pks)
            kind = rng.random()
            if kind < 0.6:
                action, changes = LogEntry.Action.UPDATE, {"email": ["a@x.fi", "b@x.fi"]}
            elif kind < 0.62:
                action, changes = LogEntry.Action.DELETE, {"register": [str(register.pk), "None"]}
                pk = 10_000_000 + n  # a row that no longer exists
            else:
                action, changes = LogEntry.Action.ACCESS, None
            log.append(
                LogEntry(
                    content_type=ct,
                    object_pk=str(pk),
                    object_id=pk,
                    object_repr=f"Yritys {pk}",
                    action=action,
                    changes=changes,
                    actor=rng.choice(users),
                    timestamp=now - timezone.timedelta(minutes=n),
                    additional_data={"register": register.pk} if action == LogEntry.Action.ACCESS else None,
                )
            )
            if len(log) == BATCH:
                LogEntry.objects.bulk_create(log)
                log = []
        LogEntry.objects.bulk_create(log)


def timed(label: str, fn, repeat: int = 5) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    print(f"{label:<45} median {statistics.median(times) * 1000:8.1f} ms   max {max(times) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--entries", type=int, default=300000)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    if args.fresh or not Register.objects.filter(slug=SLUGS[0]).exists():
        call_command("flush", "--noinput", verbosity=0)
        started = time.perf_counter()
        with transaction.atomic():
            build(args.customers, args.entries)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"built in {time.perf_counter() - started:.1f} s")
    register = Register.objects.get(slug=SLUGS[0])
    print(
        f"log entries: {LogEntry.objects.count()}, customers per register: {register.customers.count()}",
    )
    changes = audit.change_list(register=register)
    timed("change list: first page (50)", lambda: list(changes[:50]))
    timed("change list: count", changes.count)
    timed("change list: deletes only, count", audit.change_list(register=register, action=2).count)
    access = audit.access_list(register=register)
    timed("access list: first page (50)", lambda: list(access[:50]))
    timed("access list: count", access.count)
    timed("login log of the register: first page", lambda: list(audit.login_list(register=register)[:50]))
    user_ids = list(get_user_model().objects.filter(username__startswith="bench").values_list("pk", flat=True))
    timed("review facts for 50 users", lambda: audit.user_access_facts(register=register, user_ids=user_ids))


if __name__ == "__main__":
    main()
