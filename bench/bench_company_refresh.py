"""Benchmark the nightly company register refresh (issue 15; targets: <= 5 minutes and <= 500 MB for 100,000
customers against a daily file of 800,000 companies).

    .venv/bin/python bench/bench_company_refresh.py [--companies 800000] [--source rekisteri_bench_100000]

On demand, never in CI. The bench database of bench_pages.py is never touched: the script copies it
(`CREATE DATABASE rekisteri_bench_refresh TEMPLATE ...`, which needs no other session on the source), migrates
the copy, and sets every other register to apply changes at once (the rest propose them). It writes a local
all_companies ZIP in PRH's shape holding every business ID of the copy's organisations (10% with a new name,
5% with a new street, 3% ceased, 2% in liquidation) and filler companies up to --companies, then runs
`crm.company_refresh.company_register_refresh` over `companies.client.all_companies` in a child process, the
way the nightly task does, and prints its wall seconds, peak resident memory, the counts, and the queries
per batch. The copy is dropped at the end unless --keep.
"""

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
ENV = {
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "TOTP_ENCRYPTION_KEY": "dGVzdC10b3RwLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=",
    "ARCHIVE_ENCRYPTION_KEY": "dGVzdC1hcmNoaXZlLWtleS1ub3QtZm9yLXByb2R1Y3Q=",
    "ALLOWED_HOSTS": "localhost",
    "SITE_URL": "http://localhost",
    "HTTPS": "false",
}
for _name, _value in ENV.items():
    os.environ.setdefault(_name, _value)

BASE = os.environ.get("BENCH_DATABASE_BASE", "postgres://postgres@127.0.0.1:5432")
COPY = "rekisteri_bench_refresh"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def filler_business_ids():
    """Yield valid business IDs from 8,000,000 up, skipping the bases that have no check digit."""
    for number in range(8_000_000, 10_000_000):
        digits = f"{number:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
        if remainder != 1:
            yield f"{digits}-{0 if remainder == 0 else 11 - remainder}"


def company_json(
    business_id: str, name: str, address=("Hämeenkatu 1", "20100", "TURKU"), *, ceased=False, liquidation=False
) -> dict:
    street, post_code, city = address
    return {
        "businessId": {"value": business_id, "registrationDate": "2015-02-03", "source": "3"},
        "euId": {"value": f"FIFPRO.{business_id}", "source": "1"},
        "names": [{"name": name, "type": "1", "registrationDate": "2015-02-03", "version": 1, "source": "1"}],
        "mainBusinessLine": {
            "type": "62100",
            "typeCodeSet": "TOIMI4",
            "registrationDate": "2026-01-01",
            "source": "2",
            "descriptions": [
                {"languageCode": "1", "description": "Ohjelmistojen suunnittelu"},
                {"languageCode": "2", "description": "Programvarudesign"},
                {"languageCode": "3", "description": "Software design"},
            ],
        },
        "website": {"url": "www.example.fi", "registrationDate": "2025-09-29", "source": "0"},
        "companyForms": [
            {
                "type": "16",
                "version": 1,
                "source": "1",
                "descriptions": [
                    {"languageCode": "1", "description": "Osakeyhtiö"},
                    {"languageCode": "3", "description": "Limited company"},
                ],
            }
        ],
        "companySituations": [{"type": "SELTILA", "registrationDate": "2026-05-01", "source": "1"}]
        if liquidation
        else [],
        "registeredEntries": [{"type": "1", "register": "1", "authority": "2", "registrationDate": "2015-02-03"}],
        "addresses": []
        if ceased
        else [
            {
                "type": 1,
                "street": street,
                "postCode": post_code,
                "postOffices": [{"city": city.upper(), "languageCode": "1", "municipalityCode": "853"}],
                "source": "0",
            }
        ],
        "tradeRegisterStatus": "4" if ceased else "1",
        "status": "2",
        "registrationDate": "2015-02-03",
        **({"endDate": "2026-06-30"} if ceased else {}),
        "lastModified": "2026-08-03T21:04:05",
    }


def run_sql(database: str, sql: str) -> None:
    subprocess.run(["psql", f"{BASE}/{database}", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def copy_database(source: str) -> None:
    run_sql("postgres", f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
    run_sql("postgres", f'CREATE DATABASE "{COPY}" TEMPLATE "{source}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{BASE}/{COPY}"
    import django

    django.setup()


def prepare_copy() -> list[tuple[str, ...]]:
    """Migrate the copy, split its registers between propose and apply; return its organisations' (ID, name)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from crm.models import Customer
    from registers.models import Register

    for number, pk in enumerate(Register.objects.order_by("pk").values_list("pk", flat=True)):
        mode = Register.CompanyUpdates.APPLY if number % 2 else Register.CompanyUpdates.PROPOSE
        Register.objects.filter(pk=pk).update(company_updates=mode)
    rows = Customer.objects.filter(kind=Customer.Kind.ORGANISATION).exclude(business_id="")
    columns = ("business_id", "organisation_name", "street_address", "postal_code", "city")
    return sorted(set(rows.values_list(*columns)))


def write_zip(path: Path, organisations: list[tuple[str, ...]], total: int) -> dict:
    counts = {"customers": 0, "renamed": 0, "moved": 0, "ceased": 0, "liquidation": 0, "filler": 0}
    seen = set()
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("data_20260804.json", "w", force_zip64=True) as member,
    ):
        member.write(b"[")
        first = True

        def emit(data: dict) -> None:
            nonlocal first
            member.write((b"" if first else b",\n") + json.dumps(data, ensure_ascii=False).encode())
            first = False

        for number, (business_id, name, *address) in enumerate(organisations):
            # PRH's own address where the customer has none (the register gives it; it is no change).
            address = tuple(address) if all(address) else ("Hämeenkatu 1", "20100", "Turku")
            if business_id in seen:
                continue
            seen.add(business_id)
            counts["customers"] += 1
            kind = number % 100
            if kind < 10:
                counts["renamed"] += 1
                emit(company_json(business_id, f"{name} Uusi", address))
            elif kind < 15:
                counts["moved"] += 1
                emit(company_json(business_id, name, ("Linnankatu 2", *address[1:])))
            elif kind < 18:
                counts["ceased"] += 1
                emit(company_json(business_id, name, ceased=True))
            elif kind < 20:
                counts["liquidation"] += 1
                emit(company_json(business_id, name, address, liquidation=True))
            else:
                emit(company_json(business_id, name, address))
        fillers = (business_id for business_id in filler_business_ids() if business_id not in seen)
        for n, business_id in zip(range(max(total - len(seen), 0)), fillers, strict=False):
            counts["filler"] += 1
            emit(company_json(business_id, f"Täyte {n} Oy"))
        member.write(b"]")
    return counts


def child_refresh(path: str) -> None:
    """Run in a fresh process: the refresh alone, with its wall time, peak memory and queries per batch."""
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from companies.client import all_companies
    from crm import company_refresh

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(" ".join(sql.split()[:4])[:60])  # only the head: whole statements would weigh on the peak
        return execute(sql, params, many, context)

    start = time.perf_counter()
    with connection.execute_wrapper(count):
        result = company_refresh.company_register_refresh(companies=all_companies(path), fetched_at=timezone.now())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    batches = -(-(result.compared) // company_refresh.BATCH_SIZE)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "peak_mb": round(peak, 1),
                "queries": len(queries),
                "query_kinds": collections.Counter(queries).most_common(8),
                "batches": batches,
                "result": vars(result),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=800_000)
    parser.add_argument("--source", default="rekisteri_bench_100000")
    parser.add_argument("--keep", action="store_true", help="keep the copied database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_refresh(args.child)
        return
    started = time.perf_counter()
    copy_database(args.source)
    try:
        setup_django()
        organisations = prepare_copy()
        from django.db import connections

        connections.close_all()
        print(f"copied and migrated {args.source} in {time.perf_counter() - started:.0f} s")
        with tempfile.TemporaryDirectory(prefix="bench-refresh-") as folder:
            path = Path(folder) / "all_companies.zip"
            started = time.perf_counter()
            counts = write_zip(path, organisations, args.companies)
            size = path.stat().st_size / 1024 / 1024
            print(f"wrote {path.name}: {counts}, {size:.0f} MB, in {time.perf_counter() - started:.0f} s")
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
        # The copy's organisations held at the start (some share a business ID), as a check on the counts.
        print(f"organisation customers with a business ID: {len(organisations)}")
        print(f"refresh: {figures['seconds']} s, peak {figures['peak_mb']} MB (targets: 300 s, 500 MB)")
        print(f"queries: {figures['queries']} in {figures['batches']} batches: {figures['query_kinds']}")
        print(f"counts: {figures['result']}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            run_sql("postgres", f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')


if __name__ == "__main__":
    main()
