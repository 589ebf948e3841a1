"""The duplicate scan of one register, and the service that refreshes its open candidates.

Customers of one register are compared only where a duplicate can plausibly be (blocking), never every pair:

- the same business ID, the same e-mail (case-insensitive), the same phone number;
- a similar match name (crm.similarity.match_name) with the same postal code or in the same city: pairs whose
  match names begin or end with the same four letters (a typo leaves one end alone), so that a city of 20,000
  customers is not 200 million comparisons. (The end of the first word instead of the name's made larger
  blocks: a person's match name begins with a first name, of which there are few.)

On PostgreSQL the blocks are self-joins and `similarity()` of pg_trgm, streamed through a server-side
cursor; on SQLite (the quick start's small registers) the same blocks are built in Python. Either way the
reasons and the score come from crm.similarity, and only pairs it calls likely become candidates.

Contact persons are compared within their organisation: the same e-mail or phone, or a very similar name.
"""

import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator

from auditlog.context import disable_auditlog
from django.db import connection, transaction
from django.utils import timezone

from crm.models import ContactPerson, Customer
from crm.similarity import (
    LIKELY_NAME_THRESHOLD,
    SIMILAR_NAME,
    Record,
    is_likely,
    person_match_name,
    reasons_of,
    score_of,
    trigram_similarity,
)
from registers.models import Register

from .models import DuplicateCandidate, RecordKind

# Two contact persons of one organisation with names this similar are one person typed twice.
PERSON_NAME_THRESHOLD = 0.8
# Letters of a match name that the city blocks compare (see the module's docstring).
BLOCK_LETTERS = 4
BATCH_SIZE = 2000

_COLUMNS = ("kind", "match_name", "business_id", "email", "mobile", "landline", "postal_code", "city")


@dataclasses.dataclass(frozen=True)
class Pair:
    kind: str
    first: int
    second: int
    score: float
    reasons: list


@dataclasses.dataclass
class RefreshResult:
    """What one refresh of a register's candidates did."""

    customers: int = 0  # customer pairs the scan found likely
    contact_persons: int = 0  # contact-person pairs the scan found likely
    created: int = 0
    updated: int = 0  # open candidates found again, with their score and reasons renewed
    removed: int = 0  # open candidates no longer found
    dismissed: int = 0  # pairs found again but dismissed before, left alone
    seconds: float = 0.0


def _record(row: tuple) -> Record:
    return Record.from_values(dict(zip(_COLUMNS, row, strict=True)))


def _pair(kind: str, a: int, b: int, reasons: list) -> Pair | None:
    if not is_likely(reasons):
        return None
    first, second = (a, b) if a < b else (b, a)
    return Pair(kind=kind, first=first, second=second, score=score_of(reasons), reasons=reasons)


# -- Customers on PostgreSQL ------------------------------------------------------------------------------------

_SCAN_SQL = """
WITH c AS MATERIALIZED (
    SELECT id, kind, match_name, business_id, email, mobile, landline, postal_code, city,
           upper(email) AS email_key,
           replace(postal_code, ' ', '') AS postal_key,
           lower(btrim(city)) AS city_key,
           left(match_name, %(letters)s) AS head,
           right(match_name, %(letters)s) AS tail,
           length(match_name) + 1 AS size
    FROM {customer}
    WHERE register_id = %(register)s
),
pairs AS (
    {name_blocks}
    UNION
    SELECT a.id, b.id FROM c a JOIN c b ON b.email_key = a.email_key AND b.kind = a.kind AND b.id > a.id
        WHERE a.email_key <> ''
    UNION
    SELECT a.id, b.id FROM c a JOIN c b ON b.business_id = a.business_id AND b.kind = a.kind AND b.id > a.id
        WHERE a.business_id <> ''
    UNION
    SELECT a.id, b.id FROM c a JOIN c b ON b.mobile = a.mobile AND b.kind = a.kind AND b.id > a.id
        WHERE a.mobile <> ''
    UNION
    SELECT a.id, b.id FROM c a JOIN c b ON b.landline = a.landline AND b.kind = a.kind AND b.id > a.id
        WHERE a.landline <> ''
    UNION
    -- A mobile number given as the landline of the other: both orders, as the pair is (lower id, higher id).
    SELECT least(a.id, b.id), greatest(a.id, b.id) FROM c a JOIN c b ON b.landline = a.mobile AND b.kind = a.kind
        WHERE a.mobile <> '' AND a.id <> b.id
)
SELECT p.a, p.b, similarity(a.match_name, b.match_name),
       a.kind, a.match_name, a.business_id, a.email, a.mobile, a.landline, a.postal_code, a.city,
       b.kind, b.match_name, b.business_id, b.email, b.mobile, b.landline, b.postal_code, b.city
FROM pairs p JOIN c a ON a.id = p.a JOIN c b ON b.id = p.b
"""


# One block of similar names: the same place and the same first or last letters. The sizes compared first are a
# cheap bound: names whose trigram counts (about their length) differ more cannot reach the threshold.
_NAME_BLOCK = """
    SELECT a.id AS a, b.id AS b FROM c a JOIN c b
        ON b.{place} = a.{place} AND b.{letters} = a.{letters} AND b.kind = a.kind AND b.id > a.id
        WHERE a.{place} <> '' AND a.match_name <> ''
          AND least(a.size, b.size) >= %(threshold)s * greatest(a.size, b.size)
          AND similarity(a.match_name, b.match_name) >= %(threshold)s
"""
# The postal code as well as the city: a town has a Finnish and a Swedish name (Helsinki, Helsingfors).
_NAME_BLOCKS = "    UNION".join(
    _NAME_BLOCK.format(place=place, letters=letters)
    for place in ("postal_key", "city_key")
    for letters in ("head", "tail")
)


def _customer_pairs_postgresql(register: Register) -> Iterator[Pair]:
    sql = _SCAN_SQL.format(
        customer=connection.ops.quote_name(Customer._meta.db_table), name_blocks=_NAME_BLOCKS.strip()
    )
    params = {"register": register.pk, "threshold": LIKELY_NAME_THRESHOLD, "letters": BLOCK_LETTERS}
    # A server-side cursor (inside the refresh's transaction): pairs arrive in batches, not all at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(BATCH_SIZE):
            for row in rows:
                a, b, similarity = row[0], row[1], row[2]
                width = len(_COLUMNS)
                reasons = reasons_of(_record(row[3 : 3 + width]), _record(row[3 + width :]), similarity=similarity)
                pair = _pair(RecordKind.CUSTOMER, a, b, reasons)
                if pair is not None:
                    yield pair


# -- Customers elsewhere (SQLite) ------------------------------------------------------------------------------


def _customer_pairs_python(register: Register) -> Iterator[Pair]:
    records: dict[int, Record] = {}
    blocks: dict[tuple, list[int]] = defaultdict(list)
    rows = Customer.objects.filter(register=register).order_by("pk").values_list("pk", *_COLUMNS)
    for pk, *values in rows.iterator(chunk_size=BATCH_SIZE):
        record = records[pk] = _record(tuple(values))
        name = record.match_name
        keys = [("email", record.email), ("business_id", record.business_id)]
        keys += [("phone", phone) for phone in record.phones]
        if name:
            for place in (("postal", record.postal_code), ("city", record.city)):
                keys += [(*place, "head", name[:BLOCK_LETTERS]), (*place, "tail", name[-BLOCK_LETTERS:])]
        for key in keys:
            if all(key[1:]):
                blocks[(record.kind, *key)].append(pk)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        for index, a in enumerate(members):
            for b in members[index + 1 :]:
                if (a, b) in seen:
                    continue
                seen.add((a, b))
                pair = _pair(RecordKind.CUSTOMER, a, b, reasons_of(records[a], records[b]))
                if pair is not None:
                    yield pair


# -- Contact persons -------------------------------------------------------------------------------------------


def _person_reasons(a: tuple, b: tuple) -> list[dict]:
    reasons = []
    if a[1] and a[1] == b[1]:
        reasons.append({"code": "same_email"})
    if a[2] and a[2] == b[2]:
        reasons.append({"code": "same_phone"})
    similarity = trigram_similarity(a[0], b[0])
    if similarity >= PERSON_NAME_THRESHOLD:
        reasons.append({"code": SIMILAR_NAME, "similarity": round(similarity, 2)})
    return reasons


def _organisation_pairs(people: list[tuple]) -> Iterator[Pair]:
    for index, (a, *a_values) in enumerate(people):
        for b, *b_values in people[index + 1 :]:
            reasons = _person_reasons(a_values, b_values)
            if reasons:
                first, second = (a, b) if a < b else (b, a)
                yield Pair(RecordKind.CONTACT_PERSON, first, second, score_of(reasons), reasons)


def _contact_person_pairs(register: Register) -> Iterator[Pair]:
    rows = (
        ContactPerson.objects.filter(customer__register=register)
        .order_by("customer_id", "pk")
        .values_list("customer_id", "pk", "first_name", "last_name", "email", "phone")
        .iterator(chunk_size=BATCH_SIZE)
    )
    current, people = None, []
    for customer_id, pk, first_name, last_name, email, phone in rows:
        if customer_id != current:
            yield from _organisation_pairs(people)
            current, people = customer_id, []
        people.append((pk, person_match_name(first_name, last_name), email.strip().casefold(), str(phone or "")))
    yield from _organisation_pairs(people)


def duplicate_pairs(*, register: Register) -> Iterator[Pair]:
    """Yield the likely duplicate pairs of customers, then of contact persons, of one register."""
    if connection.vendor == "postgresql":
        yield from _customer_pairs_postgresql(register)
    else:
        yield from _customer_pairs_python(register)
    yield from _contact_person_pairs(register)


# -- The refresh -----------------------------------------------------------------------------------------------


def _key(kind: str, first: int, second: int) -> tuple[str, int, int]:
    return (kind, first, second)


def _candidate_keys(register: Register, state: str) -> dict[tuple[str, int, int], int]:
    rows = DuplicateCandidate.objects.filter(register=register, state=state).values_list(
        "pk", "kind", "first_id", "second_id", "first_person_id", "second_person_id"
    )
    return {
        _key(kind, first or first_person, second or second_person): pk
        for pk, kind, first, second, first_person, second_person in rows.iterator(chunk_size=BATCH_SIZE)
    }


def _candidate(register: Register, pair: Pair) -> DuplicateCandidate:
    if pair.kind == RecordKind.CUSTOMER:
        ends = {"first_id": pair.first, "second_id": pair.second}
    else:
        ends = {"first_person_id": pair.first, "second_person_id": pair.second}
    return DuplicateCandidate(register=register, kind=pair.kind, score=pair.score, reasons=pair.reasons, **ends)


def _write(register: Register, pairs: Iterable[Pair], result: RefreshResult) -> None:
    dismissed = _candidate_keys(register, DuplicateCandidate.State.DISMISSED)
    open_keys = _candidate_keys(register, DuplicateCandidate.State.OPEN)
    found: set[int] = set()
    now = timezone.now()
    creating: list[DuplicateCandidate] = []
    updating: list[DuplicateCandidate] = []

    def flush() -> None:
        # Open candidates are the scan's output, rewritten every night: only a decision on one (dismissing it)
        # is an audited change, so they are written in bulk.
        if creating:
            DuplicateCandidate.objects.bulk_create(creating)
            result.created += len(creating)
            creating.clear()
        if updating:
            DuplicateCandidate.objects.bulk_update(updating, ["score", "reasons", "updated_at"])
            result.updated += len(updating)
            updating.clear()

    for pair in pairs:
        if pair.kind == RecordKind.CUSTOMER:
            result.customers += 1
        else:
            result.contact_persons += 1
        key = _key(pair.kind, pair.first, pair.second)
        if key in dismissed:
            result.dismissed += 1
            continue
        candidate = _candidate(register, pair)
        pk = open_keys.get(key)
        if pk is None:
            creating.append(candidate)
        else:
            # Kept by its row, so a link to an open candidate stays valid across nights.
            candidate.pk, candidate.updated_at = pk, now
            found.add(pk)
            updating.append(candidate)
        if len(creating) + len(updating) >= BATCH_SIZE:
            flush()
    flush()
    gone = [pk for pk in open_keys.values() if pk not in found]
    with disable_auditlog():
        for start in range(0, len(gone), BATCH_SIZE):
            result.removed += DuplicateCandidate.objects.filter(pk__in=gone[start : start + BATCH_SIZE]).delete()[0]


@transaction.atomic
def duplicate_candidates_refresh(*, register: Register) -> RefreshResult:
    """Replace the register's open duplicate candidates with a new scan; leave dismissed pairs dismissed."""
    started = time.monotonic()
    # One refresh of a register at a time: a second waits here and then rewrites the first one's result.
    Register.objects.select_for_update().filter(pk=register.pk).first()
    result = RefreshResult()
    if register.kind == Register.Kind.CUSTOMER:
        _write(register, duplicate_pairs(register=register), result)
    result.seconds = round(time.monotonic() - started, 2)
    return result
