"""Benchmark a segment and a bulk tag on PostgreSQL (issue 18; targets: a segment of 20,000 of 100,000 customers
counted and listed, first page with its count, <= 50 ms p50; a bulk tag of 20,000 customers <= 10 s with a constant
number of queries).

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_segments
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_segments .venv/bin/python bench/segments.py

On demand, never in CI. The database is migrated if needed and, the first time, filled by `generate_data` in a
child process (100,000 customers by default, no interactions). A tag is put on 20,000 of them (one INSERT, test
data); a saved view filters by it. Measured in this process, through the real code:

- the segment's list page: `crm.saved_views.segment_customers` into the customer list's paginator
  (`crm.display.CustomerPaginator`, the count capped as the list caps a filter's) and its first page of 50 rows,
  and the segment's exact count, each `--runs` times (p50 and max);
- the bulk tag: `segments.services.bulk_action_start` of a new tag on the whole segment, run inline (the Celery
  task runs the same `bulk_action_run`), timed with its queries counted; and `crm.tagging.tags_apply_bulk` given
  the segment as a subquery (one INSERT .. SELECT), for 2,000 and 20,000 customers, to show its query count does
  not grow.
"""

import argparse
import os
import statistics
import subprocess
import sys
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

SLUG = "bench-segments"
SEGMENT_TAG = "bench segment"
TARGET_LIST_MS = 50.0
TARGET_BULK_SECONDS = 10.0


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def fill(customers: int) -> None:
    from registers.models import Register

    if Register.objects.filter(slug=SLUG).exists():
        return
    started = time.monotonic()
    command = [sys.executable, "manage.py", "generate_data", "--register", SLUG, "--customers", str(customers)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"{customers} customers generated in {time.monotonic() - started:.0f} s", flush=True)


def staff_user(register):
    from registers.models import Membership, Role
    from registers.services import membership_grant
    from tests.factories import UserFactory

    user = UserFactory(username="bench-segments-staff")
    if not Membership.objects.active().filter(user=user, register=register).exists():
        admin = UserFactory(username="bench-segments-admin", is_superuser=True)
        membership_grant(actor=admin, user=user, register=register, role=Role.STAFF, reason="benchmark")
    return user


def tag_with(register, name: str, size: int):
    """A tag on `size` customers of the register spread over it (every fifth), written with one INSERT."""
    from django.db import connection

    from crm.models import Tag

    tag, created = Tag.objects.get_or_create(register=register, name=name)
    if created and size:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO crm_customertag (tag_id, customer_id, added_at) "
                "SELECT %s, id, now() FROM (SELECT id FROM crm_customer WHERE register_id = %s "
                "ORDER BY id) c WHERE c.id %% 5 = 0 LIMIT %s",
                [tag.pk, register.pk, size],
            )
            cursor.execute("ANALYZE crm_customertag")
    return tag


def timed(function, runs: int) -> list[float]:
    times = []
    for _run in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def list_page(user, view):
    from crm import display, views
    from crm.saved_views import list_columns_for, segment_customers

    customers = segment_customers(user=user, saved_view=view)
    columns = list_columns_for(view.register, view)
    names = [*display.LIST_FIELDS, *(column.name for column in columns)]
    paginator = display.CustomerPaginator(customers, views.PAGE_SIZE, fields=names, cap=views.COUNT_CAP)
    page = paginator.get_page(1)
    rows = display.list_rows(view.register, page.object_list, columns)
    return paginator.count, paginator.capped, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--segment", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import translation

    from crm import tagging
    from crm.models import Customer, CustomerTag, SavedView
    from crm.saved_views import segment_customers
    from registers.models import Register
    from segments import services

    assert connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database"
    call_command("migrate", verbosity=0)
    fill(args.customers)
    translation.activate("fi")
    register = Register.objects.get(slug=SLUG)
    user = staff_user(register)
    total = Customer.objects.filter(register=register).count()
    tag = tag_with(register, SEGMENT_TAG, args.segment)
    view, _created = SavedView.objects.get_or_create(
        register=register, owner=user, name="bench", defaults={"query": {"tag": str(tag.code)}}
    )
    members = CustomerTag.objects.filter(tag=tag).count()
    print(f"register: {total} customers; segment: {members} customers (tag filter)", flush=True)

    list_page(user, view)  # warm caches and the connection
    page_times = timed(lambda: list_page(user, view), args.runs)
    count, capped, rows = list_page(user, view)
    count_times = timed(lambda: segment_customers(user=user, saved_view=view).count(), args.runs)
    exact = segment_customers(user=user, saved_view=view).count()
    print(
        f"first page ({len(rows)} rows) with its count ({'more than ' if capped else ''}{count}): "
        f"p50 {statistics.median(page_times):.1f} ms, max {max(page_times):.1f} ms "
        f"(target <= {TARGET_LIST_MS:.0f} ms p50)",
        flush=True,
    )
    print(
        f"exact count of the segment ({exact}): p50 {statistics.median(count_times):.1f} ms, "
        f"max {max(count_times):.1f} ms",
        flush=True,
    )

    # The bulk action as the list starts it, inline here (the Celery task runs the same steps).
    settings.BULK_INLINE_MAX = 10**9
    stamp = time.strftime("%H%M%S")
    for size in sorted({2_000, args.segment}):
        target = tag_with(register, f"bench bulk {size} {stamp}", 0)
        counter = QueryCounter()
        size_tag = tag_with(register, f"bench source {size} {stamp}", size)
        source = SavedView.objects.create(
            register=register, owner=user, name=f"bench {size} {stamp}", query={"tag": str(size_tag.code)}
        )
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            action = services.bulk_action_start(
                actor=user, register=register, kind="tag_add", parameters={"tag": str(target.code)}, saved_view=source
            )
        seconds = time.perf_counter() - started
        print(
            f"bulk action, tag {action.changed} of {action.total} customers: {seconds:.2f} s, {counter.count} queries "
            f"({services.CHUNK} rows a step; target <= {TARGET_BULK_SECONDS:.0f} s)",
            flush=True,
        )
        direct = tag_with(register, f"bench direct {size} {stamp}", 0)
        counter = QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter), transaction.atomic():
            ids = segment_customers(user=user, saved_view=source).order_by().values("pk")
            changed = tagging.tags_apply_bulk(actor=user, tag=direct, customer_ids=ids)
        seconds = time.perf_counter() - started
        print(
            f"tags_apply_bulk of a segment as one subquery, {changed} customers: {seconds:.2f} s, "
            f"{counter.count} queries",
            flush=True,
        )


if __name__ == "__main__":
    main()
