"""Deterministic, realistic-looking customers for the demo and the benchmarks.

Every value comes from a PRNG seeded by the register and the row number, so
the same call always yields the same rows, and every UUID is derived with
uuid5 so a second load recognises what the first one created.
"""

import datetime
import random
import uuid
from decimal import Decimal

from stdnum.fi import ytunnus

NAMESPACE = uuid.UUID("6f1c2b8e-3d4a-5b6c-8d9e-0a1b2c3d4e5f")

FIRST_NAMES_FI = [
    "Aino", "Eero", "Helmi", "Juho", "Kaisa", "Lauri", "Maija", "Mikko", "Noora", "Olli",
    "Pirjo", "Riikka", "Sanna", "Tapio", "Tuula", "Ville", "Aleksi", "Elina", "Heikki", "Johanna",
    "Anni", "Eetu", "Hanna", "Ilkka", "Jenni", "Kalle", "Leena", "Markus", "Outi", "Pekka",
]  # fmt: skip
FIRST_NAMES_SV = [
    "Anders", "Birgitta", "Carl", "Elsa", "Fredrik", "Greta", "Henrik", "Ingrid", "Johan", "Karin",
    "Linnea", "Magnus", "Nils", "Sofia", "Ulla", "Vilhelm", "Astrid", "Erik", "Hedvig", "Mats", "Stina", "Tor",
]  # fmt: skip
LAST_NAMES_FI = [
    "Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
    "Koskinen", "Järvinen", "Lehtonen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Kinnunen",
    "Rantanen", "Ahonen", "Lehtinen", "Turunen", "Salonen", "Karjalainen", "Hiltunen", "Toivonen", "Ojala", "Lahtinen",
]  # fmt: skip
LAST_NAMES_SV = [
    "Lindqvist", "Nyström", "Holmberg", "Sjöberg", "Lindholm", "Åberg", "Grönroos", "Wikström",
    "Ekström", "Backman", "Forsman", "Öhman", "Sundström", "Lindberg", "Blomqvist", "Westerlund",
    "Hägg", "Söderholm", "Mattsson", "Strömberg",
]  # fmt: skip
COMPANY_STEMS = [
    "Saaristo", "Kallio", "Merituuli", "Revontuli", "Kuusi", "Havu", "Aalto", "Kivi", "Pohjan",
    "Sillan", "Satama", "Hiekka", "Skärgårds", "Strand", "Björk", "Fjärd", "Kaleva", "Tammi",
]  # fmt: skip
COMPANY_TRADES = [
    "Matkailu", "Konsultointi", "Rakennus", "Design", "Tapahtumat", "Logistiikka", "Catering",
    "Ohjelmistot", "Kiinteistöt", "Turism", "Konsult", "Media", "Energia", "Hotelli",
]  # fmt: skip
COMPANY_FORMS = ["Oy", "Oy", "Oy", "Ab", "Ky", "ry", "Oy Ab", "Tmi"]
STREETS = [
    "Mannerheimintie", "Aleksanterinkatu", "Hämeentie", "Valtakatu", "Käsityöläiskatu", "Kauppakatu",
    "Esplanadi", "Sibeliuksenkatu", "Rantakatu", "Bulevardi", "Keskuskatu",
]  # fmt: skip
CITIES = [("00100", "Helsinki"), ("94100", "Kemi"), ("21100", "Naantali"), ("00530", "Helsinki"), ("20100", "Turku")]
OCCUPATIONS = ["yrittäjä", "toimitusjohtaja", "myyntipäällikkö", "tapahtumakoordinaattori", "kehittämispäällikkö"]
EDUCATIONS = ["KTM", "FM", "insinööri (AMK)", "tradenomi", "DI", "merkonomi"]
TITLES = ["Toimitusjohtaja", "Myyntijohtaja", "Markkinointipäällikkö", "Talousjohtaja", "Verkställande direktör"]
RESPONSIBILITIES = ["myynti", "markkinointi", "talous", "kokoukset ja kongressit", "yrityspalvelut"]
INTERESTS = ["kansainvälistyminen", "rahoitus", "messut", "kongressimatkailu", "rekrytointi", "investoinnit"]
SUBJECTS = {
    "call_in": ["Kysely yrityspalveluista", "Soitto: messuosallistuminen", "Fråga om finansiering"],
    "call_out": ["Soitto: kuulumiset", "Soitto: tapahtumakutsu", "Uppföljning per telefon"],
    "email_in": ["Sähköposti: tarjouspyyntö", "E-post: kongressförfrågan", "Sähköposti: tilavaraus"],
    "email_out": ["Sähköposti: esite", "E-post: inbjudan", "Sähköposti: kokousmuistio"],
    "meeting": ["Tapaaminen: kasvusuunnitelma", "Möte: etableringsstöd", "Tapaaminen: investointi"],
    "event": ["Yrittäjäaamiainen", "Matkamessut", "Kongressiseminarium"],
    "purchased_service": ["Ostettu palvelu: messuosasto", "Köpt tjänst: guidning", "Ostettu palvelu: koulutus"],
    "assignment": ["Toimeksianto: markkinaselvitys", "Uppdrag: lokalsökning", "Toimeksianto: kumppanihaku"],
    "note": ["Muistiinpano", "Anteckning", "Muistio puhelusta"],
}


def stable_code(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def business_id(rng: random.Random) -> str:
    """Return a random business ID with a valid check digit."""
    while True:
        body = f"{rng.randint(1000000, 3299999):07d}"
        for check in "0123456789":
            if ytunnus.is_valid(body + check):
                return f"{body}-{check}"


def phone(rng: random.Random, mobile: bool) -> str:
    if mobile:
        return f"+35840{rng.randint(1000000, 9999999)}"
    return f"+3589310{rng.randint(1000, 9999)}"


def ascii_part(text: str) -> str:
    """Lower-case a name for an e-mail address: ä, ö and å become a, o and a, spaces become hyphens."""
    return text.lower().replace(" ", "-").translate(str.maketrans("äöå", "aoa"))


def _draw_unique(rng: random.Random, draw, taken: set | None):
    # The demo must not show the same person twice; the benchmarks (taken=None) do not care.
    value = draw()
    while taken is not None and value in taken:
        value = draw()
    if taken is not None:
        taken.add(value)
    return value


def customer_values(rng: random.Random, *, collected: set[str], taken: set | None = None) -> dict:
    """Return the field values of one customer, limited to what the register collects.

    With `taken`, a set shared by the calls of one load, no two people get the
    same name and no two organisations the same name (and so no two the same e-mail address).
    """
    swedish = rng.random() < 0.3
    person = rng.random() < 0.35
    first, last = _draw_unique(
        rng,
        lambda: (
            rng.choice(FIRST_NAMES_SV if swedish else FIRST_NAMES_FI),
            rng.choice(LAST_NAMES_SV if swedish else LAST_NAMES_FI),
        ),
        taken if person else None,
    )
    stem, trade = _draw_unique(
        rng, lambda: (rng.choice(COMPANY_STEMS), rng.choice(COMPANY_TRADES)), None if person else taken
    )
    postal_code, city = rng.choice(CITIES)
    values = {
        "kind": "person" if person else "organisation",
        "first_name": first if person else "",
        "last_name": last if person else "",
        "organisation_name": "" if person else f"{stem} {trade} {rng.choice(COMPANY_FORMS)}",
        "business_id": "" if person else business_id(rng),
        "date_of_birth": datetime.date(rng.randint(1945, 2003), rng.randint(1, 12), rng.randint(1, 28))
        if person
        else None,
        "street_address": f"{rng.choice(STREETS)} {rng.randint(1, 80)}",
        "postal_code": postal_code,
        "city": city,
        "country": "Suomi",
        "occupation": rng.choice(OCCUPATIONS) if person else "",
        "education": rng.choice(EDUCATIONS) if person else "",
        "landline": phone(rng, mobile=False) if rng.random() < 0.5 else "",
        "mobile": phone(rng, mobile=True),
        "fax": phone(rng, mobile=False) if rng.random() < 0.05 else "",
        "email": f"{ascii_part(first)}.{ascii_part(last)}@example.fi"
        if person
        else f"info@{ascii_part(stem)}-{ascii_part(trade)}.example.fi",
        "language": "sv" if swedish else rng.choice(["fi", "fi", "fi", "en"]),
        "extra_info": rng.choice(["", "", "Toivoo yhteydenottoa sähköpostitse.", "Önskar material på svenska."]),
        "marketing_objection": rng.random() < 0.08,
    }
    from .models import Customer

    optional = {name for fields in Customer.OPTIONAL_FIELDS.values() for name in fields}
    for name in optional - collected:
        values[name] = None if name == "date_of_birth" else ""
    if values["business_id"] == "" and not person and "business_id" not in collected:
        values["business_id"] = ""
    return values


def contact_person_values(rng: random.Random, *, taken: set | None = None, domain: str = "yritys.example.fi") -> dict:
    """Return a contact person; with `taken` (the names already used in the register) a new name."""
    swedish = rng.random() < 0.3
    first, last = _draw_unique(
        rng,
        lambda: (
            rng.choice(FIRST_NAMES_SV if swedish else FIRST_NAMES_FI),
            rng.choice(LAST_NAMES_SV if swedish else LAST_NAMES_FI),
        ),
        taken,
    )
    return {
        "first_name": first,
        "last_name": last,
        "title": rng.choice(TITLES),
        "responsibility": rng.choice(RESPONSIBILITIES),
        "email": f"{ascii_part(first)}.{ascii_part(last)}@{domain}",
        "phone": phone(rng, mobile=True),
        "interests": ", ".join(rng.sample(INTERESTS, 2)),
    }


def interaction_values(rng: random.Random, *, now: datetime.datetime, max_age_days: int) -> dict:
    kind = rng.choice(list(SUBJECTS))
    return {
        "kind": kind,
        "subject": rng.choice(SUBJECTS[kind]),
        "text": rng.choice(["", "Sovittiin jatkotapaamisesta.", "Lähetetty lisätietoja.", "Ingen åtgärd behövs."]),
        "occurred_at": now - datetime.timedelta(days=rng.randint(0, max_age_days), minutes=rng.randint(0, 600)),
    }


def invoice_values(rng: random.Random, *, number: str, today: datetime.date) -> dict:
    """Return an invoice issued two weeks before it falls due, never after `today`.

    `created_at` is the issue date: the timeline shows an invoice when it was
    recorded, and an invoice loaded today would otherwise top every timeline.
    """
    due_date = today + datetime.timedelta(days=rng.randint(-400, 30))
    issued = min(due_date - datetime.timedelta(days=14), today)
    return {
        "number": number,
        "amount": Decimal(rng.randint(5000, 500000)) / 100,
        "due_date": due_date,
        "status": rng.choices(["paid", "open", "in_collection"], weights=[80, 15, 5])[0],
        "created_at": datetime.datetime.combine(issued, datetime.time(9, rng.randint(0, 59)), tzinfo=datetime.UTC),
    }
