"""Benchmark the integration API's customer endpoints on PostgreSQL (issue 19; targets: a customer list page of
100 p50 <= 30 ms with a query count that does not grow, a customer's detail p50 <= 20 ms, a modified_since sync of
10,000 changed customers walked page by page <= 5 s).

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_api
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_api .venv/bin/python bench/api.py

On demand, never in CI. The database is migrated if needed and, the first time, filled by `generate_data` in a
child process (100,000 customers by default, with contact persons and no interactions) and given tags (20 of the
register's own, about two a customer: `generate_data` makes none, and the rows show them). Each run makes a new
integration client with write scope on the register (through `api.services.api_client_create`, as a main user
would) and calls the API in this process through Django's test client with its key: the whole stack is measured
(key check, rate count in the cache, selectors, serializers, the access-log entry of each read).

- the list: GET registers/<slug>/customers/ (first page of 100 in change order), `--runs` times, p50 and max,
  with its queries counted, and a page deep into the register by its cursor;
- the detail: GET of a customer, `--runs` times, p50 and max, with its queries counted;
- the sync: 10,000 customers get a fresh `updated_at` (one UPDATE, test data), then a client walks
  `?modified_since=` page by page (100 a page, the default, then 500, the largest) following `next`.
"""

import argparse
import datetime
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

SLUG = "bench-api"
TARGET_LIST_MS = 30.0
TARGET_DETAIL_MS = 20.0
TARGET_SYNC_SECONDS = 5.0


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


def tag(register, tags: int = 20) -> None:
    """Tags on the customers, once: each customer carries each of the register's `tags` with a chance of 1 in 10
    (none to four or more, two on average), spread by a hash so that reruns give the same links."""
    from django.db import connection

    from crm.models import Tag

    if Tag.objects.filter(register=register).exists():
        return
    Tag.objects.bulk_create(Tag(register=register, name=f"Tunniste {number:02d}") for number in range(tags))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_customertag (tag_id, customer_id, added_at) "
            "SELECT t.id, c.id, now() FROM crm_customer c JOIN crm_tag t ON t.register_id = c.register_id "
            "WHERE c.register_id = %s AND abs(hashtext(c.id || ':' || t.id)) %% 10 = 0",
            [register.pk],
        )
        print(f"{cursor.rowcount} tag links on the customers", flush=True)
        cursor.execute("ANALYZE crm_tag")
        cursor.execute("ANALYZE crm_customertag")


def caller(register):
    """A test client sending the key of a new client with write scope on the register."""
    from django.test import Client
    from django.utils import timezone

    from api.services import api_client_create
    from registers.models import Role
    from registers.services import main_users_group_ensure
    from tests.factories import UserFactory

    main = UserFactory(username="bench-api-main")
    main.groups.add(main_users_group_ensure())
    _client, key = api_client_create(
        actor=main,
        name=f"Benchmark {time.strftime('%Y-%m-%d %H:%M:%S')}",
        owner=main,
        scopes={register: Role.API_WRITE},
        expires_on=timezone.localdate() + datetime.timedelta(days=1),
        rate_per_minute=1_000_000,
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


CPU_TIMES: dict[int, list[float]] = {}


def timed(function, runs: int) -> list[float]:
    """Wall-clock times in ms; the same runs' CPU time of this process is kept in CPU_TIMES (on a shared
    machine the wall clock mostly measures the other processes: the CPU time shows this code's own cost)."""
    times, cpu = [], []
    for _run in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU_TIMES[id(times)] = cpu
    return times


def get(client, url, params=None):
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response


def counted(function) -> int:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        function()
    return counter.count


def figures(label: str, times: list[float], target: float, queries: int) -> None:
    cpu = CPU_TIMES.get(id(times), [0.0])
    print(
        f"{label}: p50 {statistics.median(times):.1f} ms, max {max(times):.1f} ms, {queries} queries "
        f"(target <= {target:.0f} ms p50); CPU of this process p50 {statistics.median(cpu):.1f} ms",
        flush=True,
    )


def walk(client, url: str, params: dict) -> tuple[int, int, float]:
    """Follow `next` from the first page; return (rows, pages, seconds)."""
    rows = pages = 0
    started = time.perf_counter()
    while url:
        body = get(client, url, params).json()
        rows += len(body["results"])
        pages += 1
        url, params = body["next"], None
    return rows, pages, time.perf_counter() - started


def settle(connection) -> None:
    """Write out what an earlier run left in memory (its sync updates 10,000 rows) before timing: otherwise
    PostgreSQL's checkpoint and autovacuum write it during the timed reads, and the disk waits land on them."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE crm_customer")
        cursor.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from crm.models import Customer
    from registers.models import Register

    assert connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database"
    call_command("migrate", verbosity=0)
    fill(args.customers)
    register = Register.objects.get(slug=SLUG)
    tag(register)
    total = Customer.objects.filter(register=register).count()
    settle(connection)
    print(f"register: {total} customers; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    client = caller(register)
    base = f"/api/v1/registers/{SLUG}"

    # The list: the first page in change order, and a page deep in the register by its cursor.
    list_url = f"{base}/customers/"
    get(client, list_url)  # warm the connection, caches and the client's last-used stamp
    page = get(client, list_url).json()
    list_times = timed(lambda: get(client, list_url), args.runs)
    figures(
        f"customer list, first page of {len(page['results'])}",
        list_times,
        TARGET_LIST_MS,
        counted(lambda: get(client, list_url)),
    )
    middle = Customer.objects.filter(register=register).order_by("updated_at", "id")[total // 2]
    deep = {"modified_since": middle.updated_at.isoformat()}
    deep_times = timed(lambda: get(client, list_url, deep), args.runs)
    figures(
        "customer list, a page half-way (modified_since)",
        deep_times,
        TARGET_LIST_MS,
        counted(lambda: get(client, list_url, deep)),
    )
    small = {"page_size": 10}
    print(
        f"queries per list page: {counted(lambda: get(client, list_url, small))} for 10 rows, "
        f"{counted(lambda: get(client, list_url))} for 100, "
        f"{counted(lambda: get(client, list_url, {'page_size': 500}))} for 500",
        flush=True,
    )

    # The detail of customers spread over the register.
    codes = list(Customer.objects.filter(register=register).order_by("?").values_list("code", flat=True)[: args.runs])
    urls = iter([f"{list_url}{code}/" for code in codes])
    get(client, f"{list_url}{codes[0]}/")
    detail_times = timed(lambda: get(client, next(urls)), len(codes))
    figures("customer detail", detail_times, TARGET_DETAIL_MS, counted(lambda: get(client, f"{list_url}{codes[0]}/")))

    # The sync: `--changed` customers changed after the client's last sync.
    since = timezone.now()
    # Each change at its own microsecond, as saves one by one are. One UPDATE giving 10,000 rows the same
    # updated_at never ends: REST framework's cursor keeps only the first ordering field's value and skips the
    # rest by an offset it caps at 1,000 (CursorPagination.offset_cutoff), so the walk repeats the same page.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_customer c SET updated_at = now() + s.n * interval '1 microsecond' "
            "FROM (SELECT id, row_number() OVER () AS n FROM crm_customer WHERE register_id = %s "
            "ORDER BY random() LIMIT %s) s WHERE c.id = s.id",
            [register.pk, args.changed],
        )
        stamped = cursor.rowcount
        cursor.execute("ANALYZE crm_customer")
    for size in (100, 500):
        params = {"modified_since": since.isoformat(), "page_size": size}
        started_cpu = time.process_time()
        rows, pages, seconds = walk(client, list_url, params)
        cpu = time.process_time() - started_cpu
        assert rows == stamped, (rows, stamped)
        print(
            f"modified_since sync of {rows} changed customers, {pages} pages of {size}: {seconds:.2f} s "
            f"({seconds / pages * 1000:.1f} ms a page; target <= {TARGET_SYNC_SECONDS:.0f} s); "
            f"CPU of this process {cpu:.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
