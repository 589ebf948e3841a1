"""Benchmark duplicate detection (issue 16; targets: scan <= 30 s and <= 300 MB at 100,000 customers, recall
>= 95% of the planted duplicates, <= 5% false among the top 1,000 candidates, form warning <= 50 ms).

    .venv/bin/python bench/bench_duplicates.py                  # 100,000 customers, 2% planted duplicates
    .venv/bin/python bench/bench_duplicates.py --fresh          # drop and regenerate the database
    .venv/bin/python bench/bench_duplicates.py --customers 10000

PostgreSQL only (pg_trgm), on demand, never in CI. The database rekisteri_bench_duplicates_<N> is created,
migrated and filled once: one register of N customers, of which 2% are planted duplicates of others. The
originals are drawn from large name spaces (some 50,000 company names, 12,000 person names) over 300 towns
of unequal size with several postal codes each, so that blocks look like a real register's. A planted
duplicate is a copy of an original changed the ways duplicates are born: with or without "Oy"/"Ab", another
company form, case, Swedish/Finnish spelling (ä/ae, ö/oe, å/aa, w/v, qv/kv), a typo, the names swapped, the
e-mail in other case; a third keep only the name and the town (another postal code, no e-mail or phone).
A planted copy names its original in `extra_info`, which is how recall is counted.

The scan runs `duplicate_candidates_refresh` in a child process started for it alone, so its peak resident
memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, which includes Django and the interpreter, some 60 MB)
is the scan's. The form warning is `crm.similarity.customer_likely_duplicates` for a staff user, timed on
300 inputs: half planted-style variants of existing customers, half new names.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REGISTER = "bench-duplicates"
STAFF = "bench.duplicates.staff"
SHARE = 0.02
PLANTED = "planted duplicate of "
ENV = {
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "TOTP_ENCRYPTION_KEY": "dGVzdC10b3RwLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=",
    "ARCHIVE_ENCRYPTION_KEY": "dGVzdC1hcmNoaXZlLWtleS1ub3QtZm9yLXByb2R1Y3Q=",
    "SITE_URL": "http://localhost",
    "ALLOWED_HOSTS": "localhost,testserver",
    "HTTPS": "false",
    "LOG_LEVEL": "ERROR",
}
WARNING_SAMPLES = 300

# -- Generated names ---------------------------------------------------------------------------------------------

STEMS = [
    "Aalto", "Ahven", "Haapa", "Hirvi", "Honka", "Ilves", "Jalava", "Joki", "Kaarna", "Kallio", "Karhu", "Kataja",
    "Kettu", "Kivi", "Koivu", "Korpi", "Koski", "Kuusi", "Lahti", "Laine", "Lehto", "Leppä", "Lumi", "Mänty",
    "Meri", "Metsä", "Myrsky", "Niemi", "Nummi", "Ojala", "Paju", "Pihlaja", "Rauta", "Revon", "Ruska", "Saari",
    "Salo", "Sammal", "Sarvi", "Suvi", "Tammi", "Tuuli", "Ukko", "Vaahtera", "Valkea", "Virta", "Björk", "Strand",
    "Lund", "Berg", "Holm", "Sjö", "Ek", "Gran", "Wik", "Dahl", "Åker", "Fors", "Lind", "Sand",
]  # fmt: skip
ENDINGS = [
    "", "nen", "la", "lä", "mäki", "ranta", "vaara", "koski", "järvi", "salo", "niemi", "lahti", "berg",
    "ström", "qvist", "holm", "lund", "gård", "by", "vik",
]  # fmt: skip
TRADES = [
    "Rakennus", "Sähkö", "Kuljetus", "Logistiikka", "Konsultointi", "Tilitoimisto", "Kiinteistöt", "Catering",
    "Matkailu", "Media", "Design", "Ohjelmistot", "Energia", "Hotelli", "Kahvila", "Leipomo", "Autokorjaamo",
    "Putkityö", "Maalaus", "Siivous", "Puutarha", "Metalli", "Puu", "Kone", "Kauppa", "Optiikka", "Kampaamo",
    "Hammaslääkärit", "Lakiasiaintoimisto", "Arkkitehdit", "Insinöörit", "Turism", "Bygg", "Transport", "Konsult",
    "Fastigheter", "Verkstad", "Trädgård", "Måleri", "El",
]  # fmt: skip
FORMS = ["Oy", "Oy", "Oy", "Oy", "Ab", "Ky", "Tmi", "ry", "Oy Ab", "Oyj", "Kb", "Ay", ""]
FIRST_NAMES = [
    "Aino", "Eero", "Helmi", "Juho", "Kaisa", "Lauri", "Maija", "Mikko", "Noora", "Olli", "Pirjo", "Riikka",
    "Sanna", "Tapio", "Tuula", "Ville", "Aleksi", "Elina", "Heikki", "Johanna", "Anni", "Eetu", "Hanna", "Ilkka",
    "Jenni", "Kalle", "Leena", "Markus", "Outi", "Pekka", "Anders", "Birgitta", "Carl", "Elsa", "Fredrik",
    "Greta", "Henrik", "Ingrid", "Johan", "Karin", "Linnea", "Magnus", "Nils", "Sofia", "Ulla", "Vilhelm",
    "Astrid", "Erik", "Hedvig", "Mats", "Stina", "Tor", "Satu", "Timo", "Jari", "Päivi", "Minna", "Jukka",
    "Tiina", "Sami",
]  # fmt: skip
TOWN_ENDINGS = ["lahti", "joki", "koski", "järvi", "salmi", "vesi", "mäki", "la", "niemi", "saari"]


def towns(rng: random.Random) -> list[tuple[str, list[str], float]]:
    """Return 300 towns with their postal codes and weights (a few large towns, many small ones)."""
    names = sorted({f"{stem}{ending}" for stem in STEMS for ending in TOWN_ENDINGS})
    rng.shuffle(names)
    result = []
    for rank, name in enumerate(names[:300], start=1):
        codes = [f"{rng.randint(100, 99999):05d}" for _ in range(max(1, 40 // rank) + rng.randint(1, 8))]
        result.append((name, codes, 1 / rank))
    return result


def last_names() -> list[str]:
    return [f"{stem}{ending}" for stem in STEMS for ending in ENDINGS if ending]


# -- Planted variants ---------------------------------------------------------------------------------------------

SPELLING = [("ä", "ae"), ("ö", "oe"), ("å", "aa"), ("w", "v"), ("v", "w"), ("qv", "kv"), ("kv", "qv"), ("ä", "a")]


def typo(rng: random.Random, text: str) -> str:
    words = text.split()
    long_words = [i for i, word in enumerate(words) if len(word) >= 6 and word not in FORMS]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word = words[i]
    at = rng.randrange(2, len(word) - 1)
    # A letter left out, or a letter mistyped.
    replacement = "" if rng.random() < 0.5 else rng.choice("aeiknrst")
    words[i] = word[:at] + replacement + word[at + 1 :]
    return " ".join(words)


def spelling(rng: random.Random, text: str) -> str:
    options = [(a, b) for a, b in SPELLING if a in text.lower()]
    if not options:
        return text.upper()
    a, b = rng.choice(options)
    return text.replace(a, b).replace(a.capitalize(), b.capitalize())


def other_form(rng: random.Random, name: str) -> str:
    words = [word for word in name.split() if word not in {"Oy", "Ab", "Ky", "Tmi", "ry", "Oyj", "Kb", "Ay"}]
    return " ".join([*words, rng.choice(["Oy", "Ab", "Oy Ab", "", "Ky"])]).strip()


def variant(rng: random.Random, values: dict) -> dict:
    """Return the values of a planted duplicate of `values`."""
    copy = dict(values, business_id="")
    person = values["kind"] == "person"
    changes = rng.sample(["form", "case", "spelling", "typo", "swap"], k=rng.choice([1, 1, 2]))
    for change in changes:
        if person:
            if change == "swap":
                copy["first_name"], copy["last_name"] = copy["last_name"], copy["first_name"]
            elif change == "case":
                copy["last_name"] = copy["last_name"].upper()
            elif change == "spelling":
                copy["last_name"] = spelling(rng, copy["last_name"])
            elif change == "typo":
                copy["last_name"] = typo(rng, copy["last_name"])
        elif change == "form":
            copy["organisation_name"] = other_form(rng, copy["organisation_name"])
        elif change == "case":
            copy["organisation_name"] = copy["organisation_name"].upper()
        elif change == "spelling":
            copy["organisation_name"] = spelling(rng, copy["organisation_name"])
        elif change == "typo":
            copy["organisation_name"] = typo(rng, copy["organisation_name"])
    contact = rng.random()
    if contact < 0.35:
        copy["email"] = values["email"].upper() if rng.random() < 0.5 else values["email"]
        copy["mobile"] = ""
    elif contact < 0.6:
        copy["email"] = ""
    elif contact < 0.67:
        copy["email"], copy["mobile"] = "", ""
    else:
        # Sharing only the name and the town: another postal code, no e-mail, no phone.
        copy["email"], copy["mobile"], copy["landline"] = "", "", ""
        copy["postal_code"] = f"{(int(values['postal_code']) + 7) % 100000:05d}"
    return copy


def original(rng: random.Random, n: int, places, surnames) -> dict:
    town, codes, _weight = places
    person = rng.random() < 0.35
    first, last = rng.choice(FIRST_NAMES), rng.choice(surnames)
    name = f"{rng.choice(STEMS)}{rng.choice(ENDINGS)} {rng.choice(TRADES)}"
    if rng.random() < 0.3:
        name = f"{rng.choice(surnames)} {name}"
    form = rng.choice(FORMS)
    ascii_ = str.maketrans("äöå", "aoa")
    return {
        "kind": "person" if person else "organisation",
        "first_name": first if person else "",
        "last_name": last if person else "",
        "organisation_name": "" if person else f"{name} {form}".strip(),
        "street_address": f"Katu {rng.randint(1, 99)}",
        "postal_code": rng.choice(codes),
        "city": town,
        "email": (f"{first}.{last}{n}@example.fi" if person else f"info{n}@{name.split()[0]}.example.fi")
        .lower()
        .translate(ascii_),
        "mobile": f"+35840{1000000 + n:07d}" if rng.random() < 0.8 else "",
        "landline": f"+3589{2000000 + n:07d}" if rng.random() < 0.3 else "",
    }


def business_ids():
    from stdnum.fi import ytunnus

    body = 1_000_000
    while True:
        body += 1
        for check in "0123456789":
            if ytunnus.is_valid(f"{body}{check}"):
                yield f"{body}-{check}"
                break


# -- Child: fill, scan, measure ----------------------------------------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def fill(customers: int) -> dict:
    setup_django()
    from django.db import transaction

    from crm.models import Customer
    from registers.models import CustomerField, Organisation, Register, Role
    from registers.services import membership_grant, register_role_groups_ensure
    from tests.factories import UserFactory

    register = Register.objects.filter(slug=REGISTER).first()
    if register is not None and Customer.objects.filter(register=register).count() >= customers:
        return {"filled": 0}
    organisation, _ = Organisation.objects.get_or_create(name_fi="Benchmark organisation")
    register = Register.objects.create(
        organisation=organisation,
        slug=REGISTER,
        name_fi="Kaksoiskappaleet",
        collected_fields=list(CustomerField.values),
        legal_bases=["e"],
    )
    register_role_groups_ensure(register=register)
    admin = UserFactory(username="bench.duplicates.admin", is_superuser=True)
    staff = UserFactory(username=STAFF)
    membership_grant(actor=admin, user=staff, register=register, role=Role.STAFF, reason="benchmark")
    rng = random.Random(16)
    places, surnames, ids = towns(rng), last_names(), business_ids()
    weights = [weight for _name, _codes, weight in places]
    planted = int(customers * SHARE)
    started = time.monotonic()
    rows: list[dict] = []
    for n in range(customers - planted):
        values = original(rng, n, rng.choices(places, weights)[0], surnames)
        if values["kind"] == "organisation" and rng.random() < 0.7:
            values["business_id"] = next(ids)
        rows.append(values)
    with transaction.atomic():
        made = []
        for start in range(0, len(rows), 5000):
            batch = [Customer(register=register, **values) for values in rows[start : start + 5000]]
            made.extend(Customer.objects.bulk_create(batch))
        copies = []
        for source in rng.sample(range(len(made)), planted):
            copy = variant(rng, rows[source])
            copies.append(Customer(register=register, extra_info=f"{PLANTED}{made[source].pk}", **copy))
        Customer.objects.bulk_create(copies, batch_size=5000)
    return {"filled": len(made) + len(copies), "seconds": round(time.monotonic() - started, 1)}


def scan() -> dict:
    setup_django()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from duplicates.detection import duplicate_candidates_refresh
    from registers.models import Register

    register = Register.objects.get(slug=REGISTER)
    started = time.monotonic()
    result = duplicate_candidates_refresh(register=register)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_mb": round(peak), "start_mb": round(before), "result": vars(result)}


def quality() -> dict:
    setup_django()
    from crm.models import Customer
    from duplicates.models import DuplicateCandidate
    from registers.models import Register

    register = Register.objects.get(slug=REGISTER)
    truth = set()
    for pk, note in Customer.objects.filter(register=register, extra_info__startswith=PLANTED).values_list(
        "pk", "extra_info"
    ):
        other = int(note.removeprefix(PLANTED))
        truth.add((min(pk, other), max(pk, other)))
    candidates = DuplicateCandidate.objects.filter(register=register, kind="customer").order_by("-score", "id")
    found = set(candidates.values_list("first_id", "second_id"))
    top = list(candidates.values_list("first_id", "second_id")[:1000])
    false_top = sum(1 for pair in top if pair not in truth)
    missed = truth - found
    return {
        "planted": len(truth),
        "candidates": len(found),
        "recall": round(len(truth & found) / len(truth), 4) if truth else None,
        "false_in_top_1000": false_top,
        "false_share_top_1000": round(false_top / len(top), 4) if top else None,
        "missed_examples": [
            list(Customer.objects.filter(pk__in=pair).values_list("organisation_name", "last_name", "city"))
            for pair in sorted(missed)[:5]
        ],
    }


def warning() -> dict:
    setup_django()
    from django.contrib.auth import get_user_model

    from crm.models import Customer
    from crm.similarity import customer_likely_duplicates
    from registers.models import Register

    register = Register.objects.get(slug=REGISTER)
    user = get_user_model().objects.get(username=STAFF)
    rng = random.Random(1616)
    pks = list(Customer.objects.filter(register=register).values_list("pk", flat=True)[:: max(1, 100_000 // 1000)])
    places, surnames = towns(random.Random(16)), last_names()
    samples = []
    for n in range(WARNING_SAMPLES):
        if n % 2:
            values = original(rng, 10_000_000 + n, rng.choice(places), surnames)
        else:
            customer = Customer.objects.get(pk=rng.choice(pks))
            values = variant(rng, {name: str(getattr(customer, name)) for name in (
                "kind", "first_name", "last_name", "organisation_name", "street_address", "postal_code", "city",
                "email", "mobile", "landline")})  # fmt: skip
        samples.append(values)
    found, times = 0, []
    for values in [*samples[:20], *samples]:  # the first 20 warm the connection and the caches up
        started = time.perf_counter()
        hits = customer_likely_duplicates(user=user, register=register, kind=values["kind"], data=values)
        times.append((time.perf_counter() - started) * 1000)
        found += bool(hits)
    times = times[20:]
    return {
        "samples": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(statistics.quantiles(times, n=20)[18], 1),
        "max_ms": round(max(times), 1),
        "with_a_warning": found,
    }


# -- Parent --------------------------------------------------------------------------------------------------------


def child(mode: str, url: str, customers: int) -> dict:
    env = {**{k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL"}}, **ENV, "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--customers", str(customers)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--child", choices=["fill", "scan", "quality", "warning"])
    args = parser.parse_args()
    if args.child:
        modes = {"fill": lambda: fill(args.customers), "scan": scan, "quality": quality, "warning": warning}
        print(json.dumps(modes[args.child]()))
        return

    import psycopg

    base = os.environ.get("BENCH_DATABASE_BASE", "postgres://postgres@127.0.0.1:5432")
    name = f"rekisteri_bench_duplicates_{args.customers}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and args.fresh:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"Filling {args.customers:,} customers ({SHARE:.0%} planted duplicates) …", flush=True)
    print("  ", child("fill", url, args.customers), flush=True)
    subprocess.run(["psql", url, "-q", "-c", "VACUUM ANALYZE"], check=True)
    first = child("scan", url, args.customers)
    print(f"Scan (first run):  {first['seconds']} s, peak RSS {first['peak_mb']} MB — {first['result']}", flush=True)
    again = child("scan", url, args.customers)
    print(f"Scan (again):      {again['seconds']} s, peak RSS {again['peak_mb']} MB — {again['result']}", flush=True)
    found = child("quality", url, args.customers)
    print(
        f"Recall {found['recall']:.1%} of {found['planted']:,} planted pairs; {found['candidates']:,} candidates; "
        f"false among the top 1,000: {found['false_in_top_1000']} ({found['false_share_top_1000']:.1%})"
    )
    if found["missed_examples"]:
        print("  missed, for example:", found["missed_examples"])
    warned = child("warning", url, args.customers)
    print(
        f"Form warning: p50 {warned['p50_ms']} ms, p95 {warned['p95_ms']} ms, max {warned['max_ms']} ms "
        f"over {warned['samples']} inputs ({warned['with_a_warning']} warned)"
    )
    ok = (
        again["seconds"] <= 30
        and max(first["peak_mb"], again["peak_mb"]) <= 300
        and found["recall"] >= 0.95
        and found["false_share_top_1000"] <= 0.05
        and warned["p95_ms"] <= 50
    )
    print("Targets of issue 16:", "✓ all met" if ok else "✗ not all met")


if __name__ == "__main__":
    main()
