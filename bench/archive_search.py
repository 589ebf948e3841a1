"""Benchmark the archive's full-text search over 1,000,000 messages on PostgreSQL (issue 17: <= 100 ms p50).

    createdb -h 127.0.0.1 -U postgres rekisteri_bench_archive
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_bench_archive .venv/bin/python bench/archive_search.py

The first run migrates the database and generates the messages in SQL (generate_series; Finnish and Swedish
words, common ones more often, in three ordering clients), builds the full-text index afterwards (faster than
keeping it during the insert) and runs ANALYZE. Later runs reuse them; --fresh generates again.

Each search goes the way the message list goes: `crm.selectors.message_list(search=...)` (the user's scope,
`crm.archive_search.message_search`, newest first, the attachment count), the paginator's count and the first
page of 50. Printed: the time of each word class, p50 and p95 over all searches, and the plan of one common and
one rare word.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from crm import selectors  # noqa: E402
from crm.models import ContactCentreMessage, OrderingClient  # noqa: E402
from crm.views import ARCHIVE_PAGE_SIZE, archive_paginator  # noqa: E402
from registers.models import Register, Role  # noqa: E402

SLUG = "bench-archive"
CLIENTS = ("Kasvatuksen ja koulutuksen toimiala", "Kulttuurin ja vapaa-ajan toimiala", "Kaupunkiympäristön toimiala")
# Words of customer mail, roughly from the most to the least common; the generator picks early ones more often.
_FINNISH_WORDS = (
    "hei kiitos terveisin ystävällisin kysyisin asia viesti lasku laskun laskusta laskuun maksu maksun maksusta "
    "päiväkoti päiväkotipaikka päiväkodin hakemus hakemuksen hakemukseen koulu koulun koulukuljetus oppilas "
    "lapsi lapsen lapseni tytär poika aukioloaika aukioloajat museo museon kirjasto kirjaston kirjastokortti "
    "uimahalli uimahallin liikuntapaikka pysäköinti pysäköintivirhe pysäköintimaksu katu kadun lumityöt "
    "aurauksesta roskat jätehuolto puisto puiston leikkipuisto rakennuslupa rakennusluvan kaavoitus tontti "
    "vuokra vuokran asunto asukaspysäköinti tunnus salasana palautus palautteen valitus muistutus oikaisu "
    "päätös päätöksen käsittely käsittelyaika jonotus varaus varauksen peruutus peruuttaa tilaus tilauksen "
    "osoite osoitteen muutos muuttanut puhelin numero sähköposti liite liitteenä lomake lomakkeen allekirjoitus "
    "eräpäivä perintä muistutusmaksu hinta alennus ilmainen kausikortti sarjakortti kurssi kurssin ilmoittautuminen "
    "harrastus harrastuksen kerho nuorisotalo kesäleiri leirin ruokailu ruokalista allergia erityisruokavalio "
    "kuljetus bussi raitiovaunu pyörätie katuvalo kuoppa korjaus korjata vika vikailmoitus melu naapuri"
)
_SWEDISH_WORDS = (
    "hej tack hälsningar fråga faktura fakturan betalning avgift daghem daghemsplats ansökan skola skolan elev "
    "barnet dotter son öppettider museet biblioteket lånekort simhallen parkering parkeringsbot gata snöröjning "
    "avfall park lekpark bygglov hyra bostad lösenord respons klagomål beslut beslutet handläggning bokning "
    "avbokning adress ändring telefon bilaga blankett förfallodag pris rabatt kurs anmälan hobby läger mat "
    "allergi buss spårvagn cykelväg gatubelysning reparation fel buller granne"
)
FINNISH, SWEDISH = _FINNISH_WORDS.split(), _SWEDISH_WORDS.split()
RARE = ("kalliotaide", "hevosvaunut", "mehiläispesä", "sjöfågel", "ruiskukka", "tuulimylly", "väderkvarn")
SEARCHES = {
    "common": ["lasku", "kiitos", "päiväkoti", "hakemus", "museo", "hej", "faktura", "maksu"],
    "inflected": ["laskun", "laskuja", "hakemuksia", "päiväkodista", "museossa", "fakturor", "ansökningar"],
    "middle": ["uimahalli", "rakennuslupa", "kausikortti", "leirin", "simhallen", "bygglov", "kuoppa", "granne"],
    "rare": list(RARE),
    "two words": ["lasku eräpäivä", "päiväkoti hakemus", "faktura betalning", "museo aukioloajat", "katuvalo vika"],
    "phrase": ['"hei kiitos"', '"daghem ansökan"', "lasku -perintä", "museo or kirjasto"],
    "absent": ["xylofoni", "kvanttitietokone", "zebra"],
}


def ensure_schema() -> None:
    call_command("migrate", verbosity=0)


def world():
    from tests.factories import ContactCentreRegisterFactory

    register = Register.objects.filter(slug=SLUG).first() or ContactCentreRegisterFactory(slug=SLUG)
    clients = [
        OrderingClient.objects.get_or_create(register=register, department=department)[0] for department in CLIENTS
    ]
    from django.contrib.auth import get_user_model

    from registers.services import membership_grant

    users = get_user_model().objects
    expert = users.filter(username="bench.archive.expert").first()
    if expert is None:
        expert = users.create_user("bench.archive.expert", password=None)
        actor = users.create_superuser("bench.archive.admin", password=None)
        membership_grant(actor=actor, user=expert, register=register, role=Role.CONTACT_CENTRE_EXPERT, reason="bench")
    return register, clients, expert


# A message: a greeting, two to five words of the vocabulary (the common ones far more often: "lasku" and its forms
# end up in about one message in eight, a rare word in one in two thousand) among 15-50 other words built from
# Finnish syllables (64,000 distinct ones), so that the index holds a realistic number of distinct lexemes.
GENERATE = """
WITH vocabulary AS (
    SELECT %(finnish)s::text[] AS fi, %(swedish)s::text[] AS sv, %(rare)s::text[] AS rare,
           %(syllables)s::text[] AS syl
)
INSERT INTO crm_contactcentremessage (
    created_at, updated_at, code, direction, sender, recipient, cc, subject, body, html_body, sent_at, intake,
    internet_message_id, thread_key, raw, raw_sha256, raw_size, unreadable, identity_codes_masked,
    register_id, ordering_client_id
)
SELECT now(), now(), gen_random_uuid(), CASE WHEN g %% 3 = 0 THEN 'out' ELSE 'in' END,
       'asiakas' || (g %% 50000) || '@example.fi', 'neuvonta@hel.example.fi', '',
       initcap(v.fi[1 + floor(power(random(), 3) * array_length(v.fi, 1))::int]),
       CASE WHEN g %% 5 = 0 THEN 'Hej, ' ELSE 'Hei, ' END || array_to_string(ARRAY(
           SELECT CASE
               WHEN n > 5 OR (n > 2 AND g %% 7 < n) THEN
                   v.syl[1 + floor(random() * 40)::int] || v.syl[1 + floor(random() * 40)::int]
                   || v.syl[1 + floor(random() * 40)::int]
               WHEN random() < 0.0003 THEN v.rare[1 + floor(random() * array_length(v.rare, 1))::int]
               WHEN g %% 5 = 0 THEN v.sv[1 + floor(power(random(), 3) * array_length(v.sv, 1))::int]
               ELSE v.fi[1 + floor(power(random(), 3) * array_length(v.fi, 1))::int]
           END
           FROM generate_series(1, 20 + (g %% 35)) AS n
       ), ' '),
       '', now() - (g || ' minutes')::interval, 'mailbox',
       'bench' || g || '@example.fi', md5(g::text), '', '', 0, false, 0,
       %(register)s, (%(clients)s::bigint[])[1 + g %% %(client_count)s]
FROM generate_series(%(start)s, %(stop)s) AS g, vocabulary AS v
"""
SYLLABLES = [consonant + vowel for consonant in "kmlnptsv" for vowel in "aoiue"]


def generate(register, clients, total: int, batch: int = 100_000) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS message_fulltext")
        cursor.execute("DELETE FROM crm_contactcentremessage WHERE register_id = %s", [register.pk])
        for start in range(1, total + 1, batch):
            stop = min(start + batch - 1, total)
            began = time.perf_counter()
            cursor.execute(
                GENERATE,
                {
                    "finnish": list(FINNISH),
                    "swedish": list(SWEDISH),
                    "rare": list(RARE),
                    "syllables": SYLLABLES,
                    "register": register.pk,
                    "clients": [client.pk for client in clients],
                    "client_count": len(clients),
                    "start": start,
                    "stop": stop,
                },
            )
            print(f"  rows {start:>9,}-{stop:>9,}: {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("CREATE INDEX message_fulltext ON crm_contactcentremessage USING gin (search_document)")
        print(f"  full-text index: {time.perf_counter() - began:.1f} s", flush=True)
        cursor.execute("ANALYZE crm_contactcentremessage")


def one_search(expert, register, text: str) -> tuple[float, int]:
    began = time.perf_counter()
    messages = selectors.message_list(user=expert, register=register, search=text)
    page = archive_paginator(messages, ARCHIVE_PAGE_SIZE).get_page(1)
    rows = list(page.object_list)
    count = page.paginator.count
    elapsed = (time.perf_counter() - began) * 1000
    assert len(rows) <= ARCHIVE_PAGE_SIZE
    return elapsed, count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="times each search word is run (after one warm-up)")
    parser.add_argument("--fresh", action="store_true", help="generate the messages again")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    ensure_schema()
    register, clients, expert = world()
    stored = ContactCentreMessage.objects.filter(register=register).count()
    if args.fresh or stored != args.messages:
        print(f"Generating {args.messages:,} messages…", flush=True)
        generate(register, clients, args.messages)
    print(f"{ContactCentreMessage.objects.filter(register=register).count():,} messages in {SLUG}")

    timings: list[float] = []
    for kind, words in SEARCHES.items():
        for word in words:
            one_search(expert, register, word)  # warm-up: the first reading of the index pages
        kind_times = []
        for _round in range(args.rounds):
            for word in words:
                elapsed, count = one_search(expert, register, word)
                kind_times.append(elapsed)
                if _round == 0:
                    print(f"  {kind:<10} {word!r:<26} {elapsed:7.1f} ms  {count:>7} matches")
        timings += kind_times
        print(f"{kind:<10} p50 {statistics.median(kind_times):6.1f} ms  max {max(kind_times):6.1f} ms")
    print(
        f"\n{len(timings)} searches: p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms"
        f" (target p50 <= 100 ms)"
    )
    for word in ("lasku", "kalliotaide"):
        messages = selectors.message_list(user=expert, register=register, search=word)[:ARCHIVE_PAGE_SIZE]
        print(f"\nPlan of the first page for {word!r}:\n{messages.explain(analyze=True)}")


if __name__ == "__main__":
    main()
