"""Which columns of a customer file go to which fields: the fields a register may import, and suggestions from headers.

Headers are matched in Finnish, Swedish and English after folding case and accents and dropping spaces and
punctuation, so "Y-tunnus", "Ytunnus" and "y tunnus" are one header. An exact synonym wins; otherwise a header
that starts or ends with a synonym of five letters or more ("Asiakkaan sähköposti") is suggested too.
A field the register does not collect is never suggested, and `mapping_errors` refuses it.
"""

import unicodedata

from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer, Interaction

KIND_CUSTOMERS, KIND_CONTACT_PERSONS, KIND_INTERACTIONS = "customers", "contact_persons", "interactions"
KINDS = (KIND_CUSTOMERS, KIND_CONTACT_PERSONS, KIND_INTERACTIONS)

# A partial match needs this many letters of synonym: "maa" (country) must not claim "Maakunta".
PARTIAL_MIN_LENGTH = 5

ERROR_FIELD_TWICE = _("%(field)s is chosen for more than one column.")
ERROR_NOT_COLLECTED = _("This register does not collect %(field)s.")
ERROR_UNKNOWN_FIELD = _("The field %(field)s cannot be imported.")
ERROR_NAME_MISSING = _("Choose a column for the organisation name or the last name.")
ERROR_LINK_MISSING = _("Choose a column for the business ID or the e-mail address of the customer.")
ERROR_REQUIRED = _("Choose a column for %(field)s.")

# The columns that find the customer a contact person or an interaction belongs to.
LINK_LABELS = {
    KIND_CONTACT_PERSONS: {"business_id": _("business ID of the organisation")},
    KIND_INTERACTIONS: {"business_id": _("business ID of the customer"), "email": _("e-mail of the customer")},
}

_CUSTOMER_ALWAYS = ("kind", "organisation_name", "first_name", "last_name")

_PHONE = ("puhelin", "puhelinnumero", "puh", "telefon", "telefonnummer", "tel", "phone", "phonenumber", "telephone")
_EMAIL = (
    "sahkoposti",
    "sahkopostiosoite",
    "sposti",
    "email",
    "epost",
    "epostadress",
    "emailaddress",
    "mail",
)
_BUSINESS_ID = (
    "ytunnus",
    "yritystunnus",
    "fonummer",
    "foretagsnummer",
    "organisationsnummer",
    "businessid",
    "businessidentitycode",
    "businesscode",
)

# field -> synonyms. Where one header fits two fields ("Puhelin"), the first field still free takes it: a bare
# "Puhelin" is a mobile number in most lists today, and the landline when a "Matkapuhelin" column is there too.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "kind": ("asiakastyyppi", "tyyppi", "kundtyp", "typ", "customertype", "type", "kind"),
    "organisation_name": (
        "nimi",
        "yrityksennimi",
        "yritys",
        "yhtio",
        "yhteiso",
        "organisaatio",
        "organisaationnimi",
        "toiminimi",
        "namn",
        "foretagetsnamn",
        "foretagsnamn",
        "foretag",
        "organisation",
        "organisationensnamn",
        "firma",
        "name",
        "company",
        "companyname",
        "organisationname",
        "organizationname",
        "organization",
        "businessname",
    ),
    "first_name": ("etunimi", "etunimet", "fornamn", "firstname", "givenname", "forename"),
    "last_name": ("sukunimi", "efternamn", "lastname", "surname", "familyname"),
    "business_id": _BUSINESS_ID,
    "date_of_birth": (
        "syntymaaika",
        "syntymapaiva",
        "fodelsedatum",
        "fodelsedag",
        "dateofbirth",
        "birthdate",
        "birthday",
    ),
    "street_address": (
        "katuosoite",
        "osoite",
        "lahiosoite",
        "postiosoite",
        "gatuadress",
        "adress",
        "postadress",
        "streetaddress",
        "address",
        "street",
    ),
    "postal_code": ("postinumero", "postinro", "postnummer", "postnr", "postalcode", "postcode", "zip", "zipcode"),
    "city": ("postitoimipaikka", "kaupunki", "paikkakunta", "kunta", "postort", "stad", "ort", "city", "town"),
    "country": ("maa", "valtio", "land", "country"),
    "occupation": ("ammatti", "yrke", "occupation", "profession"),
    "education": ("koulutus", "utbildning", "education"),
    "mobile": (
        "matkapuhelin",
        "gsm",
        "kannykka",
        "mobil",
        "mobiltelefon",
        "mobilnummer",
        "mobile",
        "mobilephone",
        "cellphone",
        *_PHONE,
    ),
    "landline": ("lankapuhelin", "kiinteapuhelin", "fasttelefon", "landline", "landlinephone", *_PHONE),
    "fax": ("fax", "faksi", "telefax", "faxnummer", "faxnumber"),
    "email": _EMAIL,
    "language": ("kieli", "asiointikieli", "sprak", "language", "preferredlanguage"),
    "extra_info": (
        "lisatiedot",
        "lisatieto",
        "huomautukset",
        "tillaggsuppgifter",
        "ovrigt",
        "notes",
        "note",
        "additionalinformation",
        "extrainformation",
        "comments",
    ),
    "marketing_objection": (
        "markkinointikielto",
        "suoramarkkinointikielto",
        "direktmarknadsforingsforbud",
        "marknadsforingsforbud",
        "marketingobjection",
        "directmarketingobjection",
        "nomarketing",
        "donotmarket",
        "optout",
    ),
}

CONTACT_PERSON_SYNONYMS: dict[str, tuple[str, ...]] = {
    "business_id": (*_BUSINESS_ID, "organisaationytunnus", "yrityksenytunnus"),
    "first_name": SYNONYMS["first_name"],
    "last_name": SYNONYMS["last_name"],
    "title": ("titteli", "nimike", "tehtavanimike", "asema", "titel", "befattning", "title", "jobtitle", "position"),
    "responsibility": ("vastuualue", "ansvarsomrade", "ansvar", "responsibility", "areaofresponsibility"),
    "email": (*_EMAIL, "tyosahkoposti", "arbetsepost", "workemail"),
    "phone": (
        "tyopuhelin",
        "arbetstelefon",
        "workphone",
        *_PHONE,
        "matkapuhelin",
        "gsm",
        "mobil",
        "mobiltelefon",
        "mobile",
    ),
    "interests": ("kiinnostuksenkohteet", "kiinnostukset", "harrastukset", "intressen", "interests"),
}

INTERACTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "business_id": _BUSINESS_ID,
    "email": _EMAIL,
    "occurred_at": (
        "aika",
        "ajankohta",
        "paivamaara",
        "pvm",
        "tid",
        "tidpunkt",
        "datum",
        "date",
        "time",
        "datetime",
        "occurredat",
    ),
    "kind": ("tyyppi", "laji", "typ", "slag", "kind", "type"),
    "subject": ("aihe", "otsikko", "amne", "rubrik", "subject", "title"),
    "text": (
        "teksti",
        "kuvaus",
        "sisalto",
        "viesti",
        "muistiinpano",
        "text",
        "beskrivning",
        "innehall",
        "description",
        "content",
        "message",
    ),
}


def importable_fields(*, register, kind: str) -> list[tuple[str, str]]:
    """Return the fields a file of `kind` may fill in this register, as (field name, translated label)."""
    if kind == KIND_CUSTOMERS:
        collected = set(Customer.fields_collected_by(register))
        names = [
            *_CUSTOMER_ALWAYS,
            *(name for name in Customer.DATA_FIELDS if name in collected),
            "marketing_objection",
        ]
        return [(name, _label(Customer, name)) for name in dict.fromkeys(names)]
    if kind == KIND_CONTACT_PERSONS:
        return [
            *LINK_LABELS[kind].items(),
            *((name, _label(ContactPerson, name)) for name in ContactPerson.DATA_FIELDS),
        ]
    if kind == KIND_INTERACTIONS:
        return [
            *LINK_LABELS[kind].items(),
            *((name, _label(Interaction, name)) for name in ("occurred_at", "kind", "subject", "text")),
        ]
    raise ValueError(f"unknown import kind {kind!r}")


def suggest_mapping(headers: list[str], *, register, kind: str) -> dict[int, str]:
    """Suggest a field for each header that names one, each field at most once; column index -> field name."""
    offered = {name for name, _label in importable_fields(register=register, kind=kind)}
    synonyms = _synonyms(kind)
    # The synonym table's order says which field a header fitting two takes first.
    available = [name for name in synonyms if name in offered]
    keys = [normalise_header(header) for header in headers]
    candidates: dict[int, list[str]] = {}
    for index, key in enumerate(keys):
        if key:
            candidates[index] = [name for name in available if key in synonyms.get(name, ())]
    mapping: dict[int, str] = {}
    # A header that fits one field only ("Matkapuhelin") chooses before one that fits two ("Puhelin").
    for index in sorted(candidates, key=lambda index: (len(candidates[index]) or len(available) + 1, index)):
        _assign(mapping, index, candidates[index])
    for index, key in enumerate(keys):
        if key and index not in mapping:
            _assign(mapping, index, _partial_candidates(key, available, synonyms))
    return dict(sorted(mapping.items()))


def mapping_errors(mapping: dict[int, str], *, register, kind: str) -> list[str]:
    """Return what is wrong with the chosen mapping, as translated sentences; empty when it can be imported."""
    labels = dict(importable_fields(register=register, kind=kind))
    errors: list[str] = []
    chosen: list[str] = [name for name in mapping.values() if name]
    for name in dict.fromkeys(chosen):
        if name not in labels:
            if kind == KIND_CUSTOMERS and _is_optional_customer_field(name):
                errors.append(ERROR_NOT_COLLECTED % {"field": _label(Customer, name)})
            else:
                errors.append(ERROR_UNKNOWN_FIELD % {"field": str(name)[:100]})
        elif chosen.count(name) > 1:
            errors.append(ERROR_FIELD_TWICE % {"field": _capitalised(labels[name])})
    present = set(chosen)
    if kind == KIND_CUSTOMERS:
        if not present & {"organisation_name", "last_name"}:
            errors.append(str(ERROR_NAME_MISSING))
    elif kind == KIND_CONTACT_PERSONS:
        for name in ("business_id", "last_name"):
            if name not in present:
                errors.append(ERROR_REQUIRED % {"field": labels[name]})
    else:
        if not present & {"business_id", "email"}:
            errors.append(str(ERROR_LINK_MISSING))
        if "subject" not in present:
            errors.append(ERROR_REQUIRED % {"field": labels["subject"]})
    return errors


def normalise_header(header: str) -> str:
    """Return the header folded for matching: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", str(header).casefold())
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))


def _synonyms(kind: str) -> dict[str, tuple[str, ...]]:
    return {KIND_CONTACT_PERSONS: CONTACT_PERSON_SYNONYMS, KIND_INTERACTIONS: INTERACTION_SYNONYMS}.get(kind, SYNONYMS)


def _partial_candidates(key: str, available: list[str], synonyms: dict[str, tuple[str, ...]]) -> list[str]:
    """Return the fields whose synonym starts or ends the header, the longest synonym first."""
    matches = [
        (len(synonym), -order, name)
        for order, name in enumerate(available)
        for synonym in synonyms.get(name, ())
        if len(synonym) >= PARTIAL_MIN_LENGTH and (key.startswith(synonym) or key.endswith(synonym))
    ]
    return [name for *_rank, name in sorted(matches, reverse=True)]


def _assign(mapping: dict[int, str], index: int, names: list[str]) -> None:
    taken = set(mapping.values())
    for name in names:
        if name not in taken:
            mapping[index] = name
            return


def _is_optional_customer_field(name: str) -> bool:
    return any(name in fields for fields in Customer.OPTIONAL_FIELDS.values())


def _label(model, name: str) -> str:
    return model._meta.get_field(name).verbose_name


def _capitalised(label) -> str:
    text = str(label)
    return text[:1].upper() + text[1:]
