"""Benchmark merging one customer into another, and the merge's undo, on PostgreSQL (issue 16; target: the
merge of a customer with 2,000 interactions in <= 2 s, with as many queries whatever the history's size).

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_merge
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_merge .venv/bin/python bench/bench_merge.py

On demand, never in CI. The database is migrated if needed and, the first time, filled with a background register
(`generate_data`, 10,000 customers, 100,000 interactions and 200,000 log entries by default, in a child process) so
that the tables the merge reads and updates are not empty. Then, for each size (20, 200 and 2,000 interactions by
default) and each run, a fresh pair of organisations in a register of its own: the record merged away has that many
interactions (60 % naming one of its contact persons), 5 contact persons, 5 invoices, 3 consents, an objection,
a disclosure and 200 access-log entries; the record kept has a tenth of each. The real services run in this process:
`customer_merge` (with choices from both records) and `merge_undo`; each is timed (wall) and its queries counted.
A first, unreported merge warms Django's content-type cache (the first merge of a process reads one row more).
Each result is checked: every row on the survivor after the merge, back on its own record after the undo.
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
# With DEBUG on, Django would keep every query of the run in memory.
os.environ.pop("DEBUG", None)

BACKGROUND_SLUG = "bench-merge-background"
TARGET_SECONDS = 2.0
TARGET_INTERACTIONS = 2000
CONTACT_PERSONS = 5
INVOICES = 5
ACCESS_ENTRIES = 200


class QueryCounter:
    """Count the statements of a block, by their first word (SELECT, UPDATE, SAVEPOINT, ...)."""

    def __init__(self):
        self.count = 0
        self.kinds: dict[str, int] = {}

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        word = sql.split(None, 1)[0].upper()
        self.kinds[word] = self.kinds.get(word, 0) + 1
        return execute(sql, params, many, context)


def background(customers: int, interactions: int, log_entries: int) -> None:
    """Fill the background register once, in a child process (its memory and queries are not the merge's)."""
    from registers.models import Register

    if Register.objects.filter(slug=BACKGROUND_SLUG).exists() or not customers:
        return
    started = time.monotonic()
    for flags in (
        ["--customers", str(customers), "--interactions", str(interactions)],
        ["--users", "20"],
        ["--log-entries", str(log_entries)],
    ):
        command = [sys.executable, "manage.py", "generate_data", "--register", BACKGROUND_SLUG, *flags]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"background register filled in {time.monotonic() - started:.0f} s", flush=True)


def history(customer, *, interactions: int, share: float, staff, stamp: str) -> dict[str, int]:
    """Give `customer` its rows (bulk inserts: building test data, not the audited path); return their counts."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from crm.models import ContactPerson, Interaction, Invoice
    from privacy.rights.models import ConsentRecord, Disclosure, ObjectionRecord
    from registers.audit_chain import chained_bulk_create

    now = timezone.now()
    register = customer.register
    persons = [
        ContactPerson.objects.create(
            customer=customer, first_name=f"Henkilö{n}", last_name=stamp, email=f"h{n}.{stamp}@example.fi"
        )
        for n in range(max(1, round(CONTACT_PERSONS * share)))
    ]
    Interaction.objects.bulk_create(
        [
            Interaction(
                customer=customer,
                contact_person=persons[n % len(persons)] if n % 10 < 6 else None,
                kind=Interaction.Kind.MEETING,
                subject=f"Tapaaminen {n}",
                occurred_at=now - datetime.timedelta(hours=n),
                staff_user=staff,
            )
            for n in range(interactions)
        ],
        batch_size=1000,
    )
    for n in range(max(1, round(INVOICES * share))):
        Invoice.objects.create(
            customer=customer,
            number=f"{stamp}-{customer.pk}-{n}",
            amount=100 + n,
            due_date=now.date() + datetime.timedelta(days=14),
        )
    purposes = list(ConsentRecord.Purpose)
    for purpose in purposes[:3] if share == 1 else purposes[3:4]:
        ConsentRecord.objects.create(
            customer=customer,
            register=register,
            purpose=purpose,
            given_at=now - datetime.timedelta(days=30),
            given_channel=ConsentRecord.Channel.WEB,
        )
    ObjectionRecord.objects.create(
        customer=customer,
        register=register,
        purpose=ObjectionRecord.Purpose.PROCESSING,
        given_at=now,
        channel=ConsentRecord.Channel.EMAIL,
    )
    Disclosure.objects.create(
        register=register,
        customer=customer,
        recipient="Perintätoimisto",
        recipient_kind=Disclosure.RecipientKind.LEGAL_SERVICES,
        data_description="nimi ja osoite",
        legal_basis="621/1999 16(3) §",
        actor=staff,
    )
    customer_type = ContentType.objects.get_for_model(customer)
    chained_bulk_create(
        LogEntry,
        [
            LogEntry(
                content_type=customer_type,
                object_pk=str(customer.pk),
                object_id=customer.pk,
                object_repr=customer.display_name,
                action=LogEntry.Action.ACCESS,
                actor=staff,
                actor_email=staff.email,
                remote_addr="10.0.0.1",
                additional_data={"register": register.pk, "path": f"/crm/{register.slug}/customers/<code>/"},
                timestamp=now - datetime.timedelta(minutes=n),
            )
            for n in range(round(ACCESS_ENTRIES * share))
        ],
        batch_size=1000,
    )
    return {
        "interactions": customer.interactions.count(),
        "contact persons": customer.contact_persons.count(),
        "invoices": customer.invoices.count(),
        "consents": ConsentRecord.objects.filter(customer=customer).count(),
        "access entries": LogEntry.objects.filter(
            content_type=customer_type, object_id=customer.pk, action=LogEntry.Action.ACCESS
        ).count(),
    }


def one_run(size: int, run: int) -> dict:
    """Merge a fresh pair whose record merged away has `size` interactions, then undo it; time and count both."""
    from django.db import connection

    from crm.models import Customer
    from duplicates import services
    from registers.models import CustomerField, Organisation, Register, Role
    from registers.services import membership_grant, register_role_groups_ensure
    from tests.factories import UserFactory

    stamp = f"{int(time.time())}-{size}-{run}"
    organisation, _ = Organisation.objects.get_or_create(name_fi="Benchmark organisation")
    register = Register.objects.create(
        organisation=organisation,
        slug=f"bench-merge-{stamp}",
        name_fi=f"Yhdistämiskoe {stamp}",
        collected_fields=list(CustomerField.values),
        legal_bases=["e"],
    )
    register_role_groups_ensure(register=register)
    admin = UserFactory(username=f"bench-merge-admin-{stamp}", is_superuser=True)
    handler = UserFactory(username=f"bench-merge-handler-{stamp}")
    membership_grant(actor=admin, user=handler, register=register, role=Role.HANDLER, reason="benchmark")
    kept = Customer.objects.create(
        register=register, organisation_name="Kahvila Aalto Oy", city="Helsinki", email="info@aalto.example.fi"
    )
    merged = Customer.objects.create(
        register=register, organisation_name="Kahvila Aalto", city="Helsinki", email="myynti@aalto.example.fi"
    )
    kept_rows = history(kept, interactions=max(1, size // 10), share=0.1, staff=handler, stamp=stamp)
    merged_rows = history(merged, interactions=size, share=1, staff=handler, stamp=stamp)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    kept.refresh_from_db()
    merged.refresh_from_db()

    counter = QueryCounter()
    started = time.monotonic()
    with connection.execute_wrapper(counter):
        merge = services.customer_merge(
            actor=handler,
            survivor=kept,
            merged=[merged],
            choices={"organisation_name": kept.pk, "email": merged.pk},
            versions={kept.pk: kept.version, merged.pk: merged.version},
            reason="sama kahvila",
        )
    merge_seconds, merge_queries, merge_kinds = time.monotonic() - started, counter.count, counter.kinds
    after = Customer.objects.get(pk=kept.pk)
    assert not Customer.objects.filter(pk=merged.pk).exists()
    assert after.interactions.count() == kept_rows["interactions"] + merged_rows["interactions"], "merge lost rows"
    assert after.email == merged.email, "the choice from the record merged away was not taken"

    counter = QueryCounter()
    started = time.monotonic()
    with connection.execute_wrapper(counter):
        services.merge_undo(actor=handler, merge=merge, reason="eri kahvilat")
    undo_seconds, undo_queries = time.monotonic() - started, counter.count
    restored = Customer.objects.get(pk=merged.pk)
    assert restored.interactions.count() == merged_rows["interactions"], "undo did not bring the rows back"
    assert Customer.objects.get(pk=kept.pk).interactions.count() == kept_rows["interactions"]
    return {
        "moved": merged_rows,
        "merge_s": merge_seconds,
        "merge_q": merge_queries,
        "merge_kinds": merge_kinds,
        "undo_s": undo_seconds,
        "undo_q": undo_queries,
        "undo_kinds": counter.kinds,
    }


def print_table(results: dict[int, list[dict]]) -> None:
    print()
    print("| interactions moved | other rows moved | merge s (median, max) | merge queries | undo s (median, max) "
          "| undo queries |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for runs in results.values():
        moved = runs[0]["moved"]
        other = ", ".join(f"{count} {what}" for what, count in moved.items() if what != "interactions")

        def seconds(key, runs=runs):
            values = [run[key] for run in runs]
            return f"{statistics.median(values):.3f}, {max(values):.3f}"

        def queries(key, runs=runs):
            values = sorted({run[key] for run in runs})
            return "/".join(str(value) for value in values)

        print(
            f"| {moved['interactions']:,} | {other} | {seconds('merge_s')} | {queries('merge_q')} "
            f"| {seconds('undo_s')} | {queries('undo_q')} |"
        )
    print()
    largest = results[max(results)]
    for size in sorted(size for size in results if size >= TARGET_INTERACTIONS)[:1]:
        worst = max(run["merge_s"] for run in results[size])
        print(f"merge of {size:,} interactions: worst {worst:.3f} s (target <= {TARGET_SECONDS} s at "
              f"{TARGET_INTERACTIONS:,}): {'holds' if worst <= TARGET_SECONDS else 'MISSED'}")  # fmt: skip
    for key, what in (("merge_q", "merge"), ("undo_q", "undo")):
        counts = {run[key] for runs in results.values() for run in runs}
        print(f"{what} queries over every size and run: {sorted(counts)}: {'constant' if len(counts) == 1 else 'VARY'}")
    last = largest[-1]
    for key, what in (("merge_kinds", "merge"), ("undo_kinds", "undo")):
        kinds = ", ".join(f"{count} {word}" for word, count in sorted(last[key].items(), key=lambda item: -item[1]))
        print(f"{what} statements at {max(results):,}: {kinds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 2000], help="interactions to move")
    parser.add_argument("--runs", type=int, default=3, help="merges (and undos) per size, each on a fresh pair")
    parser.add_argument("--background-customers", type=int, default=10_000, help="0: no background register")
    parser.add_argument("--background-interactions", type=int, default=100_000)
    parser.add_argument("--background-log-entries", type=int, default=200_000)
    args = parser.parse_args()
    if min(args.sizes) < 1 or args.runs < 1:
        parser.error("give sizes and runs of at least 1")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    background(args.background_customers, args.background_interactions, args.background_log_entries)

    # The first merge of a process also reads content types into Django's cache: warm it, outside the figures.
    one_run(1, -1)
    results: dict[int, list[dict]] = {}
    for size in sorted(args.sizes):
        results[size] = []
        for run in range(args.runs):
            result = one_run(size, run)
            results[size].append(result)
            print(
                f"{size:>6} interactions, run {run + 1}: merge {result['merge_s']:.3f} s / {result['merge_q']} "
                f"queries, undo {result['undo_s']:.3f} s / {result['undo_q']} queries",
                flush=True,
            )
    print_table(results)


if __name__ == "__main__":
    main()
