"""Likely duplicate customers: the match form of a name, pair scoring and the new-customer form's look-up.

`match_name` is what duplicate detection compares (stored as `Customer.match_name`, trigram-indexed on
PostgreSQL). It folds away what varies between two entries of the same name:

- case, accents and punctuation ("Mäki-Ranta Oy" = "maki ranta"); ":" and "." join ("T:mi", "r.y.");
- company-form words anywhere in the name (Oy, Ab, Oy Ab, Oyj, Ky, Tmi, ry, Osakeyhtiö, Aktiebolag, ...);
- Finnish/Swedish spelling variants, applied after the form words are gone so that a form word is
  recognised as typed: ä/ae → a, ö/oe/ø → o, å → a (a keyboard without å writes "a" or "aa"), w → v
  (old Finnish spelling, "Wirtanen"), q → k and c → k (Lindqvist/Lindkvist, Carlsson/Karlsson), x → ks,
  ph → f, th → t, and doubled letters once (Matsson/Mattsson, Aalto/Alto, "aa" for å). z is left alone:
  in Finnish it stands for ts only in loan words, in Swedish names for s, and one letter apart is
  left to the trigram similarity;
- for a person, the order of the names ("Virtanen Maija" = "Maija Virtanen").

The folding is lossy on purpose: it only decides which records are worth a human's look.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# A name folded to nothing but company-form words ("Oy Ab") keeps them: an empty match name matches nothing.
COMPANY_FORMS = (
    "oy",
    "oyj",
    "ab",
    "abp",
    "ky",
    "kb",
    "tmi",
    "ay",
    "hb",
    "ry",
    "rf",
    "osk",
    "sr",
    "ltd",
    "limited",
    "inc",
    "llc",
    "plc",
    "corp",
    "co",
    "gmbh",
    "osakeyhtiö",
    "julkinen osakeyhtiö",
    "aktiebolag",
    "publikt aktiebolag",
    "kommandiittiyhtiö",
    "kommanditbolag",
    "avoin yhtiö",
    "öppet bolag",
    "handelsbolag",
    "toiminimi",
    "osuuskunta",
    "andelslag",
    "rekisteröity yhdistys",
    "registrerad förening",
    "asunto oy",
    "as oy",
    "asunto osakeyhtiö",
    "bostadsaktiebolag",
)

# Letters folded before the form words are looked for (so "osakeyhtio" is "osakeyhtiö").
_LETTERS = str.maketrans({"ä": "a", "å": "a", "æ": "a", "ö": "o", "ø": "o", "ß": "ss", "ð": "d", "þ": "th"})
# Spelling variants, longest first, applied to the words that are left.
_VARIANTS = (("ae", "a"), ("oe", "o"), ("ph", "f"), ("th", "t"), ("w", "v"), ("q", "k"), ("c", "k"), ("x", "ks"))
_JOINING = re.compile("[:.'`\u2019]")
_SEPARATING = re.compile(r"[^0-9a-z]+")
_DOUBLED = re.compile(r"([a-z])\1+")


def _words(text: str) -> list[str]:
    """Return the words of `text`, casefolded, without accents or punctuation."""
    text = text.casefold().translate(_LETTERS)
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    text = _JOINING.sub("", text)
    return _SEPARATING.sub(" ", text).split()


def _spelling(word: str) -> str:
    for typed, folded in _VARIANTS:
        word = word.replace(typed, folded)
    return _DOUBLED.sub(r"\1", word)


# Company forms by their first word, longest first ("asunto oy" before "oy" would be wrong: "asunto" is first).
_FORMS: dict[str, list[tuple[str, ...]]] = {}
for _form in sorted((tuple(_words(form)) for form in COMPANY_FORMS), key=len, reverse=True):
    _FORMS.setdefault(_form[0], []).append(_form)


def _without_forms(words: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(words):
        for form in _FORMS.get(words[index], ()):
            if tuple(words[index : index + len(form)]) == form:
                index += len(form)
                break
        else:
            kept.append(words[index])
            index += 1
    return kept or words


def match_name(kind: str, organisation_name: str, first_name: str, last_name: str) -> str:
    """Return the form of a customer's name that duplicate detection compares (see the module's docstring)."""
    if kind == "organisation":
        words = _without_forms(_words(organisation_name))
        return " ".join(_spelling(word) for word in words)
    return " ".join(sorted(_spelling(word) for word in _words(f"{first_name} {last_name}")))


def person_match_name(first_name: str, last_name: str) -> str:
    """Return the match form of a contact person's name."""
    return match_name("person", "", first_name, last_name)


def _trigrams(text: str) -> set[str]:
    # pg_trgm's way: each word padded with two spaces before and one after.
    grams: set[str] = set()
    for word in text.split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """Return pg_trgm's similarity() of two match names, computed in Python (SQLite and tests)."""
    first, second = _trigrams(a), _trigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


# -- Reasons and score ------------------------------------------------------------------------------------------

SAME_BUSINESS_ID = "same_business_id"
SAME_EMAIL = "same_email"
SAME_PHONE = "same_phone"
SIMILAR_NAME = "similar_name"
SAME_POSTAL_CODE = "same_postal_code"
SAME_CITY = "same_city"

REASON_LABELS = {
    SAME_BUSINESS_ID: _("same business ID"),
    SAME_EMAIL: _("same e-mail"),
    SAME_PHONE: _("same phone number"),
    SAME_POSTAL_CODE: _("same postal code"),
    SAME_CITY: _("same city"),
}
# Weights of the score (0..1): an identifier shared is strong evidence, an address shared only supports a name.
_WEIGHTS = {SAME_BUSINESS_ID: 0.6, SAME_EMAIL: 0.45, SAME_PHONE: 0.3, SAME_POSTAL_CODE: 0.1, SAME_CITY: 0.05}
NAME_WEIGHT = 0.6
# A name at least this similar counts as a reason of its own.
NAME_THRESHOLD = 0.5
# A name at least this similar makes a pair with a shared postal code or city alone. Lower, names that share a
# word of a trade ("Koivuranta Rakennus", "Koivuniemi Rakennus": 0.55) flood the list; a typo in a name of two
# words stays above it (0.7).
LIKELY_NAME_THRESHOLD = 0.65


def _phone_key(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def score_of(reasons: list[dict]) -> float:
    """Return the score (0..1) of a pair from its reasons: a shared identifier, a name, an address."""
    total = 0.0
    for reason in reasons:
        if reason["code"] == SIMILAR_NAME:
            total += NAME_WEIGHT * reason["similarity"]
        else:
            total += _WEIGHTS.get(reason["code"], 0.0)
    return round(min(total, 1.0), 3)


@dataclass
class Record:
    """What scoring reads of a customer (from a model instance, a form's data or a value row)."""

    kind: str
    match_name: str
    business_id: str = ""
    email: str = ""
    phones: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_values(cls, values: dict) -> "Record":
        kind = values.get("kind") or "organisation"
        name = values.get("match_name") or match_name(
            kind, values.get("organisation_name", ""), values.get("first_name", ""), values.get("last_name", "")
        )
        phones = tuple(
            key for key in (_phone_key(str(values.get(name) or "")) for name in ("mobile", "landline")) if key
        )
        return cls(
            kind=kind,
            match_name=name,
            business_id=(values.get("business_id") or "").strip(),
            email=(values.get("email") or "").strip().casefold(),
            phones=phones,
            postal_code=(values.get("postal_code") or "").replace(" ", ""),
            city=" ".join((values.get("city") or "").split()).casefold(),
        )


def reasons_of(a: Record, b: Record, *, similarity: float | None = None) -> list[dict]:
    """Return why two records look like one: [{"code": ...}, {"code": "similar_name", "similarity": 0.87}]."""
    reasons: list[dict] = []
    if a.business_id and a.business_id == b.business_id:
        reasons.append({"code": SAME_BUSINESS_ID})
    if a.email and a.email == b.email:
        reasons.append({"code": SAME_EMAIL})
    if set(a.phones) & set(b.phones):
        reasons.append({"code": SAME_PHONE})
    if similarity is None:
        similarity = trigram_similarity(a.match_name, b.match_name)
    if similarity >= NAME_THRESHOLD:
        reasons.append({"code": SIMILAR_NAME, "similarity": round(similarity, 2)})
    if a.postal_code and a.postal_code == b.postal_code:
        reasons.append({"code": SAME_POSTAL_CODE})
    if a.city and a.city == b.city:
        reasons.append({"code": SAME_CITY})
    return reasons


def is_likely(reasons: list[dict]) -> bool:
    """Tell whether reasons make a pair worth a look: a shared identifier, or a similar name and a shared place."""
    codes = {reason["code"] for reason in reasons}
    if codes & {SAME_BUSINESS_ID, SAME_EMAIL, SAME_PHONE}:
        return True
    name = max((reason["similarity"] for reason in reasons if reason["code"] == SIMILAR_NAME), default=0.0)
    return name >= LIKELY_NAME_THRESHOLD and bool(codes & {SAME_POSTAL_CODE, SAME_CITY})


def reason_labels(reasons: list[dict]) -> list[str]:
    """Return a translated label per reason ("same e-mail", "name 0.87 similar"), as the screens show them."""
    labels = []
    for reason in reasons:
        code = reason.get("code")
        if code == SIMILAR_NAME:
            labels.append(gettext("name %(similarity).2f similar") % {"similarity": reason.get("similarity", 0.0)})
        elif code in REASON_LABELS:
            labels.append(str(REASON_LABELS[code]))
    return labels


# -- The new-customer form's look-up ---------------------------------------------------------------------------

# Columns the look-up reads and the warning shows.
_COLUMNS = (
    "pk",
    "code",
    "register_id",
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "match_name",
    "business_id",
    "email",
    "mobile",
    "landline",
    "postal_code",
    "city",
)
# Names this similar are read from the trigram index; lower ones only count with an identifier.
LOOKUP_NAME_THRESHOLD = 0.5
# Rows read per branch before scoring: a common name ("Matti Virtanen") has many namesakes.
_LOOKUP_ROWS = 50


@dataclass
class LikelyDuplicate:
    customer: object
    score: float
    reasons: list[dict]

    @property
    def labels(self) -> list[str]:
        return reason_labels(self.reasons)

    @property
    def codes(self) -> set[str]:
        return {reason["code"] for reason in self.reasons}


def _identifier_q(record: Record, data: dict) -> Q | None:
    # Each branch is an equality that a b-tree answers (customer_email_upper, customer_mobile, ...).
    query = Q()
    if record.business_id:
        query |= Q(business_id=record.business_id)
    if record.email:
        query |= Q(email__iexact=record.email)
    for name in ("mobile", "landline"):
        phone = str(data.get(name) or "")
        if phone.startswith("+"):
            query |= Q(mobile=phone) | Q(landline=phone)
    return query or None


def _similar_names(customers, record: Record, *, postgres: bool):
    if postgres:
        # `%` (trigram_similar) is answered by the GIN index customer_match_name_trgm; the closest come first.
        return (
            customers.filter(match_name__trigram_similar=record.match_name)
            .annotate(name_similarity=TrigramSimilarity("match_name", record.match_name))
            .filter(name_similarity__gte=LOOKUP_NAME_THRESHOLD)
            .order_by("-name_similarity", "pk")
        )
    # SQLite (the quick start's small registers): the names sharing a word, scored in Python.
    words = Q()
    for word in record.match_name.split():
        if len(word) >= 3:
            words |= Q(match_name__contains=word)
    return customers.filter(words).order_by("pk") if words else customers.none()


def customer_likely_duplicates(*, user, register, kind: str, data: dict, exclude_pk=None, limit: int = 5):
    """Return up to `limit` customers of the register the user may see that look like the one in `data`.

    The register is scoped by crm.selectors.customer_list, so a user without the right to see the
    register gets nothing. Each hit carries its score and reasons, highest score first.
    """
    # Imported here: crm.models derives match names from this module, and the selectors import the models.
    from .selectors import customer_list

    record = Record.from_values({**data, "kind": kind})
    customers = customer_list(user=user, register=register).filter(kind=kind).order_by().only(*_COLUMNS)
    if exclude_pk is not None:
        customers = customers.exclude(pk=exclude_pk)
    rows: dict[int, object] = {}
    identifiers = _identifier_q(record, data)
    if identifiers is not None:
        rows.update((customer.pk, customer) for customer in customers.filter(identifiers)[:_LOOKUP_ROWS])
    if record.match_name and connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # `%` takes its threshold from this setting (0.3 by default): at the look-up's own threshold the
            # index hands over a few rows to recheck, not every name sharing a common word.
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [LOOKUP_NAME_THRESHOLD])
            similar = list(_similar_names(customers, record, postgres=True)[:_LOOKUP_ROWS])
        rows.update((customer.pk, customer) for customer in similar if customer.pk not in rows)
    elif record.match_name:
        similar = _similar_names(customers, record, postgres=False)[:_LOOKUP_ROWS]
        rows.update((customer.pk, customer) for customer in similar if customer.pk not in rows)
    found = []
    for customer in rows.values():
        other = Record.from_values({name: getattr(customer, name) for name in _COLUMNS if name != "pk"})
        reasons = reasons_of(record, other)
        if not is_likely(reasons) and not _name_alone(reasons, kind):
            continue
        found.append(LikelyDuplicate(customer=customer, score=score_of(reasons), reasons=reasons))
    found.sort(key=lambda hit: (-hit.score, hit.customer.pk))
    return found[:limit]


def _name_alone(reasons: list[dict], kind: str) -> bool:
    # Before an address is typed, a near-identical organisation name is worth a warning on its own; a
    # person's namesake is not (there are many Matti Virtanens) unless the address agrees.
    if kind != "organisation":
        return False
    return any(reason["code"] == SIMILAR_NAME and reason["similarity"] >= 0.8 for reason in reasons)
