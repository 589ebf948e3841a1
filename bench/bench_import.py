"""Benchmark the import of a 100,000-row customer CSV (issue 15; targets: preview <= 60 s and <= 250 MB,
commit <= 120 s with a constant number of queries per chunk, undo <= 120 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_import \\
        .venv/bin/python bench/bench_import.py [--rows 100000]

On demand, never in CI. The database is migrated if needed; the script adds a register with an owner,
10% of the file's business IDs as existing customers (they are updated, fill_empty mode), writes the CSV
to a temporary file, then runs the real services: upload, the mapping POST through the test client (the
web request's own work: its preview task is only queued), the preview task's body, the commit (the task's
function, in this process), undo. It prints wall seconds per phase, the peak resident memory of the
process after each phase (`resource.getrusage`, monotonic), and the queries of each commit chunk.
"""

import argparse
import csv
import os
import resource
import sys
import tempfile
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

WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id(n: int) -> str:
    number = 2_000_000 + n * 3
    while True:
        digits = f"{number:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
        if remainder != 1:
            return f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        number += 1


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Nimi", "Y-tunnus", "Sähköposti", "Katuosoite", "Postinumero", "Kaupunki", "Puhelin"])
        for n in range(rows):
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


def signed_in(user):
    """Return a test client signed in as `user`, past the second factor when the role requires one."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from registers.totp import TOTPDevice
    from registers.two_factor import user_requires_two_factor

    client = Client()
    client.force_login(user)
    if user_requires_two_factor(user):
        device, _ = TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "bench"})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from django.urls import reverse

    from crm.models import Customer
    from imports import services
    from imports.models import ImportBatch
    from imports.tasks import import_preview as preview_task
    from registers.models import CustomerField, Organisation, Register, Role
    from registers.services import membership_grant, register_role_groups_ensure
    from tests.factories import UserFactory

    organisation, _ = Organisation.objects.get_or_create(name_fi="Benchmark organisation")
    stamp = int(time.time())
    register = Register.objects.create(
        organisation=organisation,
        slug=f"bench-import-{stamp}",
        name_fi=f"Tuontikoe {stamp}",
        collected_fields=list(CustomerField.values),
        legal_bases=["e"],
    )
    register_role_groups_ensure(register=register)
    admin = UserFactory(username=f"bench-admin-{stamp}", is_superuser=True)
    owner = UserFactory(username=f"bench-owner-{stamp}")
    membership_grant(actor=admin, user=owner, register=register, role=Role.OWNER, reason="benchmark")
    existing = [
        Customer(register=register, organisation_name=f"Vanha {n} Oy", business_id=business_id(n))
        for n in range(0, args.rows, 10)
    ]
    Customer.objects.bulk_create(existing, batch_size=2000)
    mapping = {0: "organisation_name", 1: "business_id", 2: "email", 3: "street_address", 4: "postal_code"}
    mapping |= {5: "city", 6: "mobile"}
    client = signed_in(owner)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "asiakkaat.csv"
        write_csv(path, args.rows)
        print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB; peak {peak_mb():.0f} MB before the import")
        with path.open("rb") as upload:
            batch = services.import_batch_create(actor=owner, register=register, file=upload, file_name=path.name)

        queued = []
        preview_task.delay = lambda *args: queued.append(args)  # a worker would take it from the broker
        post = {f"column_{index}": name for index, name in mapping.items()} | {"match_mode": "fill_empty"}
        url = reverse("imports:batch-mapping", kwargs={"register": register.slug, "code": batch.code})
        started = time.monotonic()
        response = client.post(url, post)
        print(f"mapping POST: {time.monotonic() - started:.2f} s, status {response.status_code}, task queued {queued}")

        started = time.monotonic()
        batch = services.import_preview_run(batch_id=batch.pk, token=queued[0][1], language=queued[0][2])
        print(
            f"preview (task): {time.monotonic() - started:.1f} s, peak {peak_mb():.0f} MB; {batch.state}, new "
            f"{batch.created}, update {batch.updated}, duplicate {batch.duplicate}, invalid {batch.invalid}, "
            f"rejected file {batch.rejected_file.size if batch.rejected_file else 0} bytes"
        )

    services.import_transition(batch=batch, to=ImportBatch.State.QUEUED, actor=owner)
    chunk_queries: list[int] = []
    commit_chunk = services._commit_chunk

    def counted(**kwargs):
        with CaptureQueriesContext(connection) as captured:
            applied = commit_chunk(**kwargs)
        chunk_queries.append(len(captured))
        # The captured SQL stays in the connection's log (up to 9,000 queries of up to 1,000 rows each): it would
        # count as the commit's memory.
        connection.queries_log.clear()
        return applied

    services._commit_chunk = counted
    started = time.monotonic()
    batch = services.import_commit_run(batch_id=batch.pk)
    print(
        f"commit: {time.monotonic() - started:.1f} s, peak {peak_mb():.0f} MB; {batch.state}, created "
        f"{batch.created}, updated {batch.updated}; queries per chunk of {services.COMMIT_CHUNK}: "
        f"min {min(chunk_queries)}, max {max(chunk_queries)} over {len(chunk_queries)} chunks"
    )

    started = time.monotonic()
    undo = services.import_undo(actor=owner, batch=batch)
    print(
        f"undo: {time.monotonic() - started:.1f} s, peak {peak_mb():.0f} MB; deleted {undo.deleted}, "
        f"restored {undo.restored}, kept {undo.kept_count}"
    )


if __name__ == "__main__":
    main()
