"""Benchmark the register owner's audit screens at 1,000,000 log entries on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres rekisteri_audit_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_audit_bench \\
        SECRET_KEY=$(python3 -c 'print("x"*60)') ALLOWED_HOSTS=localhost,testserver HTTPS=false
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/bench_audit.py --fresh            # 100,000 customers, 200,000 interactions, 1M entries
    .venv/bin/python bench/bench_audit.py --old              # also time the query the change screen ran before

Builds three registers of customers and interactions, and a log of create,
update and delete entries (deleted customers and interactions among them) and
access entries, written with COPY, each carrying its register as the code
writes them since registers migration 0012. Then times what the owner's screens
run: the first page of the change and access lists (the query), a deep page by
OFFSET (what page 100 cost before the lists continued from their last entry)
and by the cursor that replaced it, their capped counts, a filtered change
list, the login log and the review facts; then the whole pages through Django's
test client (DEBUG off, CONN_MAX_AGE as configured), each with its query count,
next to the password-change page (the fixed cost of any signed-in page). `--old`
times the change list as it was before entries carried their register (every
row id of the register, deleted rows through their delete entries, compared
with each entry's object id as text), with a statement timeout.

Measured on the project's 2-core machine (PostgreSQL 15, 1,000,000 entries, 3 registers of
33,333 customers and 66,666 interactions, other workers busy): change list first page 2,379 ms
before (the old query), 13-24 ms after; capped count 5-12 ms; access list first page 12-55 ms,
its full count 345-389 ms (what the page used to wait on), capped 4-10 ms.

Whole pages through the test client (DEBUG off, CONN_MAX_AGE 60), medians of 15-25 requests, the
same machine at a quiet moment, before (018e792^, page numbers by OFFSET, a name query per related
row) and after (names read once per model for the page, cursor paging):

    page                               before                    after
    password change (the fixed cost)   7.9 ms, 4 queries         7.0-7.3 ms, 4 queries
    changes, first page                41.3 ms, 13 queries       27.9-30.6 ms, 11 queries
    changes, page 100                  353 ms, 8 (OFFSET 4,950)  27.2 ms, 8 (cursor)
    access, first page                 26.7 ms, 8 queries        21.1-24.8 ms, 8 queries
    access, page 100                   248 ms, 8 (OFFSET 4,950)  22.0-34.3 ms, 8 (cursor)
    logins, first page                 18.6 ms, 6 queries        17.3-18.0 ms, 6 queries

The change list's page-100 query alone: 385 ms by OFFSET, 5 ms from the cursor. With other
workers busy every figure was 1.5-3x higher (the first change page 115-145 ms before, 38-45 ms
after). The query count no longer follows the entries: one query per model whose rows the page's
changes name, bounded by the models audited rows point to (tests/registers/test_audit_queries.py).
"""

import argparse
import io
import json
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
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import CharField, Q, QuerySet  # noqa: E402
from django.db.models.fields.json import KT  # noqa: E402
from django.db.models.functions import Cast  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.models import Customer, Interaction  # noqa: E402
from registers import access_review, audit, views_audit  # noqa: E402
from registers.models import Organisation, Register, Role  # noqa: E402
from registers.services import membership_grant, register_role_groups_ensure  # noqa: E402

SLUGS = ("bench-audit-a", "bench-audit-b", "bench-audit-c")
OWNER = "bench.audit.owner"
BATCH = 5000


def build(customers: int, interactions: int, entries: int) -> None:
    rng = random.Random(4)
    organisation, _ = Organisation.objects.get_or_create(name_fi="Bench-organisaatio")
    users = [get_user_model().objects.get_or_create(username=f"bench{i}")[0] for i in range(50)]
    user_ids = [user.pk for user in users]
    now = timezone.now()
    registers, customer_pks, interaction_pks = [], {}, {}
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
        registers.append(register.pk)
        count = customers // len(SLUGS)
        for start in range(0, count, BATCH):
            Customer.objects.bulk_create(
                Customer(register=register, kind=Customer.Kind.ORGANISATION, organisation_name=f"Yritys {slug} {i}")
                for i in range(start, min(start + BATCH, count))
            )
        customer_pks[register.pk] = list(register.customers.values_list("pk", flat=True))
        count = interactions // len(SLUGS)
        for start in range(0, count, BATCH):
            Interaction.objects.bulk_create(
                Interaction(
                    customer_id=rng.choice(customer_pks[register.pk]),
                    kind=Interaction.Kind.MEETING,
                    subject=f"Tapaaminen {i}",
                    occurred_at=now,
                )
                for i in range(start, min(start + BATCH, count))
            )
        interaction_pks[register.pk] = list(
            Interaction.objects.filter(customer__register=register).values_list("pk", flat=True)
        )
    customer_ct = ContentType.objects.get_for_model(Customer).pk
    interaction_ct = ContentType.objects.get_for_model(Interaction).pk
    update = json.dumps({"email": ["a@x.fi", "b@x.fi"]})
    columns = (
        "content_type_id, object_pk, object_id, object_repr, action, changes, changes_text, actor_id, "
        "timestamp, additional_data"
    )
    gone = 10_000_000
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY auditlog_logentry ({columns}) FROM STDIN") as copy:
        for n in range(entries):
            register_pk = rng.choice(registers)
            kind = rng.random()
            changes = update
            if kind < 0.35:
                ct, pk, action, changes = customer_ct, rng.choice(customer_pks[register_pk]), 3, None
            elif kind < 0.60:
                ct, pk, action = customer_ct, rng.choice(customer_pks[register_pk]), 1
            elif kind < 0.65:
                ct, pk, action = customer_ct, rng.choice(customer_pks[register_pk]), 0
            elif kind < 0.95:
                ct, pk, action = interaction_ct, rng.choice(interaction_pks[register_pk]), rng.choice((0, 1))
            elif kind < 0.98:
                gone += 1
                ct, pk, action = customer_ct, gone, 2
                changes = json.dumps({"register": [str(register_pk), "None"], "organisation_name": ["X", "None"]})
            else:
                gone += 1
                parent = rng.choice(customer_pks[register_pk])
                ct, pk, action = interaction_ct, gone, 2
                changes = json.dumps({"customer": [str(parent), "None"], "subject": ["X", "None"]})
            copy.write_row(
                (
                    ct,
                    str(pk),
                    pk,
                    f"Kohde {pk}",
                    action,
                    changes,
                    "",
                    rng.choice(user_ids),
                    now - timezone.timedelta(seconds=30 * (entries - n)),
                    json.dumps({"register": register_pk}),
                )
            )


def old_change_list(register: Register) -> QuerySet:
    """The change list's query before entries carried their register (registers/audit.py until migration 0012)."""

    def pk_sets(model, path, register):
        if not path:
            return [Register.objects.filter(pk=register.pk).annotate(pk_text=Cast("pk", CharField())).values("pk_text")]
        live = (
            model._default_manager.filter(**{"__".join(path): register})
            .annotate(pk_text=Cast("pk", CharField()))
            .values("pk_text")
        )
        first = path[0]
        if len(path) == 1:
            parent_match = Q(fk_text=str(register.pk))
        else:
            parent_model = model._meta.get_field(first).related_model
            parent_match = Q()
            for parent_pks in pk_sets(parent_model, path[1:], register):
                parent_match |= Q(fk_text__in=parent_pks)
        deleted = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), action=LogEntry.Action.DELETE
            )
            .annotate(fk_text=Cast(KT(f"changes__{first}__0"), output_field=CharField()))
            .filter(parent_match)
            .values("object_pk")
        )
        return [live, deleted]

    scope = Q(pk__in=[])
    for model, path in audit.audited_models():
        rows = Q()
        for pks in pk_sets(model, path, register):
            rows |= Q(object_pk__in=pks)
        scope |= Q(content_type=ContentType.objects.get_for_model(model)) & rows
    return (
        LogEntry.objects.filter(action__in=audit.CHANGE_ACTIONS)
        .filter(scope)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


def timed(label: str, fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    median = statistics.median(times) * 1000
    print(f"{label:<52} median {median:9.1f} ms   max {max(times) * 1000:9.1f} ms")
    return median


def owner_client(register: Register):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from registers.totp import TOTPDevice

    users = get_user_model().objects
    owner, _ = users.get_or_create(username=OWNER)
    if not register.memberships.filter(user=owner, role=Role.OWNER, ended_at__isnull=True).exists():
        grantor, _ = users.get_or_create(username="bench.grantor", defaults={"is_superuser": True})
        membership_grant(actor=grantor, user=owner, register=register, role=Role.OWNER, reason="benchmark")
    client = Client()
    client.force_login(owner)
    device, _ = TOTPDevice.objects.get_or_create(user=owner, confirmed=True, defaults={"name": "bench"})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def page_timed(client, label: str, url: str, repeat: int = 5) -> None:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # Not CaptureQueriesContext: the request_started signal empties the connection's query log.
    with connection.execute_wrapper(count):
        client.get(url)
    timed(f"{label}, {len(queries)} queries", lambda: client.get(url), repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--old", action="store_true", help="also time the change list's query before 0012")
    parser.add_argument("--old-timeout", type=int, default=120, help="seconds before the old query is cancelled")
    parser.add_argument("--repeat", type=int, default=25, help="requests per page timed (the median is shown)")
    args = parser.parse_args()
    if args.fresh or not Register.objects.filter(slug=SLUGS[0]).exists():
        call_command("flush", "--noinput", verbosity=0)
        started = time.perf_counter()
        with transaction.atomic():
            build(args.customers, args.interactions, args.entries)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"built in {time.perf_counter() - started:.1f} s")
    register = Register.objects.get(slug=SLUGS[0])
    print(
        f"log entries: {LogEntry.objects.count()}, registers: {len(SLUGS)}, "
        f"customers per register: {register.customers.count()}, "
        f"interactions per register: {Interaction.objects.filter(customer__register=register).count()}",
    )
    if args.old:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = '{args.old_timeout}s'")
            old = old_change_list(register)
            try:
                timed("BEFORE change list: first page (50)", lambda: list(old[:50]), repeat=1)
            except django.db.utils.OperationalError:
                print(f"BEFORE change list: first page (50)                   cancelled after {args.old_timeout} s")
    changes = audit.change_list(register=register)
    timed("change list: first page (50)", lambda: list(changes[:50]))
    timed("change list: page 100 by OFFSET (before)", lambda: list(changes[4950:5000]))
    deep = changes[4949]
    timed(
        "change list: page 100 by cursor",
        lambda: list(audit.entries_before(changes, deep.timestamp, deep.pk)[:51]),
    )
    timed("change list: count capped at 1,001", lambda: changes[:1001].count())
    deletes = audit.change_list(register=register, action=LogEntry.Action.DELETE)
    timed("change list, deletes only: first page", lambda: list(deletes[:50]))
    since = timezone.localdate() - timezone.timedelta(days=30)
    timed("change list, last 30 days: first page", lambda: list(audit.change_list(register=register, since=since)[:50]))
    access = audit.access_list(register=register)
    timed("access list: first page (50)", lambda: list(access[:50]))
    timed("access list: count capped at 1,001", lambda: access[:1001].count())
    timed("access list: full count (what the page waited on)", access.count, repeat=3)
    timed("login log of the register: first page", lambda: list(audit.login_list(register=register)[:50]))
    user_ids = list(get_user_model().objects.filter(username__startswith="bench").values_list("pk", flat=True))
    timed("review facts for 50 users", lambda: access_review.user_access_facts(register=register, user_ids=user_ids))
    client = owner_client(register)
    base = f"/registers/{register.slug}/audit"
    cursor = views_audit.format_cursor((deep.timestamp, deep.pk))
    access_deep = access[4949]
    access_cursor = views_audit.format_cursor((access_deep.timestamp, access_deep.pk))
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    print(f"\nwhole pages through the test client (DEBUG {settings.DEBUG}, CONN_MAX_AGE {max_age}):")
    repeat = args.repeat
    page_timed(client, "password change page (fixed cost)", "/accounts/password/", repeat)
    page_timed(client, "changes page, first", f"{base}/changes/", repeat)
    page_timed(client, "changes page, page 100 (cursor)", f"{base}/changes/?before={cursor}", repeat)
    page_timed(client, "changes page, updates only", f"{base}/changes/?action=1", repeat)
    page_timed(client, "access page, first", f"{base}/access/", repeat)
    page_timed(client, "access page, page 100 (cursor)", f"{base}/access/?before={access_cursor}", repeat)
    page_timed(client, "logins page, first", f"{base}/logins/", repeat)
    with connection.cursor() as cursor:
        sql, params = changes[:50].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        print("\nplan of the change list's first page:")
        print(io.StringIO("\n".join("  " + row[0] for row in cursor.fetchall())).getvalue())


if __name__ == "__main__":
    main()
