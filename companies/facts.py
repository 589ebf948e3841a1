"""What Rekisteri keeps of one company of the PRH open-data register (YTJ v3 `Company` object).

Parsing is lenient on purpose: PRH adds fields without notice and leaves optional parts out, so unknown
fields are ignored, a missing or malformed optional part gives an empty value, and only a record without
a business ID is refused (`ValueError`). The codes come from PRH's code lists (`/description?code=...`):
TLAJI for name types, REK_KDI for `tradeRegisterStatus`, SELTILA/KONK/SANE for `companySituations`.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

LANGUAGES = {"1": "fi", "2": "sv", "3": "en"}  # DescriptionEntry.languageCode and PostOffice.languageCode
FALLBACK = ("fi", "sv", "en")

MAIN_NAME, PARALLEL_NAME, AUXILIARY_NAME = "1", "2", "3"  # TLAJI
VISITING_ADDRESS, POSTAL_ADDRESS = "1", "2"
# REK_KDI: 2 = removed from the register, 4 = ceased. The top-level `status` (STATUS3) is "2" for living
# and dead companies alike, so it is never read.
CEASED_TRADE_REGISTER_STATUSES = frozenset({"2", "4"})
# When a company is in several situations at once, the gravest one is shown.
SITUATIONS = (("KONK", "bankruptcy"), ("SELTILA", "liquidation"), ("SANE", "restructuring"))


class CompanyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LIQUIDATION = "liquidation", _("In liquidation")
    BANKRUPTCY = "bankruptcy", _("In bankruptcy")
    RESTRUCTURING = "restructuring", _("In restructuring")
    CEASED = "ceased", _("Ceased")


@dataclass(frozen=True)
class Descriptions:
    """A PRH code with its Finnish, Swedish and English descriptions (any of which may be empty)."""

    code: str = ""
    fi: str = ""
    sv: str = ""
    en: str = ""

    def __bool__(self) -> bool:
        return bool(self.code or self.fi or self.sv or self.en)

    def description(self, language: str | None = None) -> str:
        """Return the description in `language` (default: the active one), else Finnish, Swedish, English."""
        wanted = (language or translation.get_language() or "fi")[:2].lower()
        for code in (wanted, *FALLBACK):
            text = getattr(self, code, "") if code in FALLBACK else ""
            if text:
                return text
        return ""


@dataclass(frozen=True)
class BusinessLine(Descriptions):
    """The main line of business: an industry code of `code_set` (TOIMI4 is TOL 2025, TOIMI3 TOL 2008)."""

    code_set: str = ""


@dataclass(frozen=True)
class Address:
    """One address as Finns write it: `street` is the whole first line, `city` the post office's name."""

    street: str = ""
    post_code: str = ""
    city: str = ""
    country: str = ""
    co: str = ""

    def __bool__(self) -> bool:
        return bool(self.street or self.post_code or self.city)

    def __str__(self) -> str:
        place = " ".join(part for part in (self.post_code, self.city) if part)
        return ", ".join(part for part in (self.street, place) if part)


@dataclass(frozen=True)
class CompanyFacts:
    business_id: str
    name: str = ""
    parallel_names: tuple[str, ...] = ()
    auxiliary_names: tuple[str, ...] = ()
    visiting_address: Address = field(default_factory=Address)
    postal_address: Address = field(default_factory=Address)
    company_form: Descriptions = field(default_factory=Descriptions)
    business_line: BusinessLine = field(default_factory=BusinessLine)
    website: str = ""
    registration_date: datetime.date | None = None
    end_date: datetime.date | None = None
    status: CompanyStatus = CompanyStatus.ACTIVE
    trade_register_status: str = ""
    # PRH's own time of the last change, as given (no time zone); the nightly refresh compares it.
    last_modified: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.business_id})" if self.name else self.business_id

    @property
    def address(self) -> Address:
        """Return the visiting address, else the postal address."""
        return self.visiting_address or self.postal_address

    @classmethod
    def from_json(cls, data: Any) -> "CompanyFacts":
        """Parse one v3 `Company` object; raise ValueError if it has no business ID."""
        if not isinstance(data, dict):
            raise ValueError("a company must be a JSON object")
        business_id = _text(_dict(data.get("businessId")).get("value"))
        if not business_id:
            raise ValueError("the company has no business ID")
        names = _dicts(data.get("names"))
        addresses = _dicts(data.get("addresses"))
        line = _dict(data.get("mainBusinessLine"))
        return cls(
            business_id=business_id,
            name=_main_name(names),
            parallel_names=_current_names(names, PARALLEL_NAME),
            auxiliary_names=_current_names(names, AUXILIARY_NAME),
            visiting_address=_address(addresses, VISITING_ADDRESS),
            postal_address=_address(addresses, POSTAL_ADDRESS),
            company_form=_company_form(_dicts(data.get("companyForms"))),
            business_line=BusinessLine(
                code=_text(line.get("type")),
                code_set=_text(line.get("typeCodeSet")),
                **_descriptions(line.get("descriptions")),
            ),
            website=_text(_dict(data.get("website")).get("url")),
            registration_date=_date(data.get("registrationDate"))
            or _date(_dict(data.get("businessId")).get("registrationDate")),
            end_date=_date(data.get("endDate")),
            status=_status(data),
            trade_register_status=_text(data.get("tradeRegisterStatus")),
            last_modified=_text(data.get("lastModified")),
        )


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).strip()


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def _is_current(entry: dict) -> bool:
    # "version 1 = current version, other numbers earlier versions"; an ended entry is history too.
    return not entry.get("endDate") and _text(entry.get("version")) in {"", "1"}


def _descriptions(entries: Any) -> dict[str, str]:
    found = {}
    for entry in _dicts(entries):
        language = LANGUAGES.get(_text(entry.get("languageCode")))
        text = _text(entry.get("description"))
        if language and text and language not in found:
            found[language] = text
    return found


def _main_name(names: list[dict]) -> str:
    main = [n for n in names if _text(n.get("type")) == MAIN_NAME and _text(n.get("name"))]
    current = [n for n in main if _is_current(n)]
    if current:
        return _text(current[0]["name"])
    # A ceased company's last name has an end date too; its newest name still names it.
    candidates = main or [n for n in names if _text(n.get("name"))]
    if not candidates:
        return ""
    newest = max(candidates, key=lambda n: (_text(n.get("version")) == "1", _text(n.get("registrationDate"))))
    return _text(newest["name"])


def _current_names(names: list[dict], name_type: str) -> tuple[str, ...]:
    return tuple(
        _text(n.get("name"))
        for n in names
        if _text(n.get("type")) == name_type and _is_current(n) and _text(n.get("name"))
    )


def _company_form(forms: list[dict]) -> Descriptions:
    current = [f for f in forms if _is_current(f)] or forms
    if not current:
        return Descriptions()
    return Descriptions(code=_text(current[0].get("type")), **_descriptions(current[0].get("descriptions")))


def _street(address: dict, language: str) -> str:
    free = _text(address.get("freeAddressLine"))
    if free:
        # Foreign addresses: PRH turns newlines into spaces and spaces into underscores.
        return free.replace("_", " ")
    # Finnish order: street, building number, staircase, apartment with its suffix ("Katu 1 B 12a").
    apartment = _text(address.get("apartmentNumber")) + _text(address.get("apartmentIdSuffix"))
    parts = [_text(address.get(key)) for key in ("street", "buildingNumber", "entrance")] + [apartment]
    street = " ".join(part for part in parts if part)
    box = _text(address.get("postOfficeBox"))
    if box:
        label = "PB" if language == "sv" else "PL"
        street = ", ".join(part for part in (street, f"{label} {box}") if part)
    return street


def _city(post_offices: list[dict]) -> tuple[str, str]:
    by_language = {}
    for office in post_offices:
        language = LANGUAGES.get(_text(office.get("languageCode")), "")
        city = _text(office.get("city"))
        if city:
            by_language.setdefault(language, city)
    for language in (*FALLBACK, ""):
        if language in by_language:
            return by_language[language], language
    return "", ""


def _address(addresses: list[dict], address_type: str) -> Address:
    for address in addresses:
        if _text(address.get("type")) == address_type:
            city, language = _city(_dicts(address.get("postOffices")))
            return Address(
                street=_street(address, language),
                post_code=_text(address.get("postCode")),
                city=city,
                country=_text(address.get("country")),
                co=_text(address.get("co")),
            )
    return Address()


def _status(data: dict) -> CompanyStatus:
    if _text(data.get("endDate")) or _text(data.get("tradeRegisterStatus")) in CEASED_TRADE_REGISTER_STATUSES:
        return CompanyStatus.CEASED
    entries = _dicts(data.get("registeredEntries"))
    if entries and all(entry.get("endDate") for entry in entries):
        # Struck from every register it was in: nothing of the company is left alive.
        return CompanyStatus.CEASED
    current = {_text(s.get("type")) for s in _dicts(data.get("companySituations")) if not s.get("endDate")}
    for situation, status in SITUATIONS:
        if situation in current:
            return CompanyStatus(status)
    return CompanyStatus.ACTIVE
