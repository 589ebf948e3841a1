"""Filling a new organisation from the company register (PRH open data) and keeping what the register said.

The user types a business ID or a name on the new-organisation form; the page shows what PRH says and fills
the form with it; nothing is stored until the user saves. The register's facts travel to the save in a
signed field, so that a customer records the trade register as its source only when its details really came
from PRH, and only for the business ID that was looked up. Without PRH (not configured, the network down) the
form works by hand and says why the look-up gave nothing.
"""

import dataclasses
import datetime
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from companies.client import (
    CompanyRegisterUnavailable,
    SearchPage,
    business_id_compact,
    company_get,
    company_search,
)
from companies.facts import CompanyFacts, CompanyStatus, Descriptions

from .models import Customer
from .selectors import user_may_import
from .services import customer_create

# PRH's terms (CC BY 4.0) ask for the source to be named wherever its data is shown.
SOURCE_NOTICE = _("Source: PRH open data (CC BY 4.0).")
ERROR_INVALID_BUSINESS_ID = _("That is not a valid business ID; check the digits and the check mark.")
ERROR_UNKNOWN_COMPANY = _("The company register has no company with this business ID.")
ERROR_NO_MATCHES = _("The company register has no company with this name.")
ERROR_NO_ADD_RIGHT = _("Only the register's owner or handler may add companies from the company register.")
# A looked-up record is good for saving for this long; after that the user looks it up again.
RECORD_MAX_AGE = 3600
_SALT = "crm.company-register.record"
_BUSINESS_ID_LIKE = re.compile(r"^[\d\s-]+$")


@dataclass
class CompanyLookup:
    """What one look-up found: a company, a page of companies by name, or an error to show."""

    query: str
    facts: CompanyFacts | None = None
    matches: SearchPage | None = None
    error: str = ""
    fetched_at: datetime.datetime | None = None

    @property
    def record(self) -> str:
        """The signed facts the form carries to the save."""
        return signed_record(self.facts, self.fetched_at) if self.facts else ""

    @property
    def panel(self) -> dict:
        """The facts as a customer would keep them, for the page to show before the user saves."""
        if not self.facts:
            return {}
        record = company_record(self.facts, self.fetched_at)
        return facts_panel(record["status"], record["facts"], self.fetched_at)


def lookup_available() -> bool:
    """Tell whether the company register is configured (the quick start and the tests run without it)."""
    return bool(settings.PRH_API_URL)


def company_lookup(query: str) -> CompanyLookup:
    """Look a business ID or a name up in the company register; never raises for PRH's troubles."""
    query = " ".join(str(query or "").split())[:200]
    lookup = CompanyLookup(query=query)
    if not query:
        return lookup
    try:
        if _BUSINESS_ID_LIKE.match(query):
            if business_id_compact(query) is None:
                lookup.error = str(ERROR_INVALID_BUSINESS_ID)
                return lookup
            lookup.facts = company_get(query)
            lookup.fetched_at = timezone.now()
            if lookup.facts is None:
                lookup.error = str(ERROR_UNKNOWN_COMPANY)
        else:
            lookup.matches = company_search(name=query)
            if not lookup.matches.companies:
                lookup.error = str(ERROR_NO_MATCHES)
    except CompanyRegisterUnavailable as error:
        lookup.error = str(error)
    return lookup


def initial_from_facts(facts: CompanyFacts) -> dict[str, str]:
    """Return the form's values from the register: name, business ID and the visiting (else postal) address."""
    address = facts.address
    return {
        "organisation_name": facts.name,
        "business_id": facts.business_id,
        "street_address": address.street,
        "postal_code": address.post_code,
        "city": address.city,
    }


def company_record(facts: CompanyFacts, fetched_at: datetime.datetime) -> dict:
    """Return what a customer keeps of the register's facts (JSON): status, form, line of business, website, names."""
    return {
        "business_id": facts.business_id,
        "status": str(facts.status),
        "fetched_at": fetched_at.isoformat(),
        "facts": {
            "company_form": dataclasses.asdict(facts.company_form),
            "business_line": dataclasses.asdict(facts.business_line),
            "website": facts.website,
            "visiting_address": str(facts.visiting_address),
            "postal_address": str(facts.postal_address),
            "parallel_names": list(facts.parallel_names),
            "auxiliary_names": list(facts.auxiliary_names),
            "registration_date": facts.registration_date.isoformat() if facts.registration_date else "",
            "end_date": facts.end_date.isoformat() if facts.end_date else "",
        },
    }


def signed_record(facts: CompanyFacts, fetched_at: datetime.datetime) -> str:
    return signing.dumps(company_record(facts, fetched_at), salt=_SALT, compress=True)


def record_from_form(token: str, business_id: str) -> dict | None:
    """Return the signed record if it is fresh and names the business ID being saved, else None."""
    if not token:
        return None
    try:
        record = signing.loads(token, salt=_SALT, max_age=RECORD_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(record, dict) or business_id_compact(business_id) != record.get("business_id"):
        return None
    # Only company_record's shape is taken: a record of another shape (an older deploy's) must not reach the save.
    if record.get("status") not in CompanyStatus.values or not isinstance(record.get("facts"), dict):
        return None
    try:
        datetime.datetime.fromisoformat(record["fetched_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return record


def facts_panel(status: str, facts: dict, fetched_at: datetime.datetime | None) -> dict:
    """Return the context of crm/_company_facts.html."""
    return {
        "status_label": CompanyStatus(status).label if status in CompanyStatus.values else "",
        "status_active": status == CompanyStatus.ACTIVE,
        "rows": facts_rows(facts),
        "fetched_at": fetched_at,
        "source_notice": SOURCE_NOTICE,
    }


def customer_panel(customer) -> dict:
    """Return the company register's facts kept for an organisation, or {} if it has none."""
    if not customer.company_status:
        return {}
    return facts_panel(customer.company_status, customer.company_facts, customer.company_data_fetched_at)


def facts_rows(facts: dict) -> list[tuple[str, str]]:
    """Return (label, text) of the kept facts in the user's language, for a definition list."""
    rows = []
    company_form = _description(facts.get("company_form"))
    if company_form:
        rows.append((_("Company form"), company_form))
    line = facts.get("business_line") or {}
    if line.get("code"):
        rows.append((_("Main line of business"), f"{line['code']} {_description(line)}".strip()))
    for key, label in (("visiting_address", _("Visiting address")), ("postal_address", _("Postal address"))):
        if facts.get(key):
            rows.append((label, facts[key]))
    if facts.get("website"):
        rows.append((_("Website"), facts["website"]))
    names = [*facts.get("parallel_names", ()), *facts.get("auxiliary_names", ())]
    if names:
        rows.append((_("Other names"), ", ".join(names)))
    for key, label in (("registration_date", _("Registered")), ("end_date", _("Ceased on"))):
        if facts.get(key):
            day = datetime.date.fromisoformat(facts[key])
            rows.append((label, formats.date_format(day, "SHORT_DATE_FORMAT")))
    return rows


def _description(stored: dict | None) -> str:
    # A code's descriptions as company_record kept them, in the user's language as the register's own class picks it.
    fields = {name: (stored or {}).get(name, "") for name in ("code", "fi", "sv", "en")}
    return Descriptions(**fields).description()


# Adding companies found by a search of the company register, several at once (a handler's work).

ERROR_NO_BUSINESS_IDS = _(
    "This register does not collect business IDs, so companies cannot be added from the register."
)
ERROR_NOTHING_CHOSEN = _("Choose at least one company to add.")


@dataclass
class CompaniesAdded:
    added: list = field(default_factory=list)  # the new customers
    already: list[str] = field(default_factory=list)  # names of companies the register has (same business ID)


def companies_search_page(*, name: str, location: str, business_line: str, page: int) -> CompanyLookup:
    """Search the company register by name, town or line of business; never raises for PRH's troubles."""
    lookup = CompanyLookup(query=" ".join(part for part in (name, location, business_line) if part))
    try:
        lookup.matches = company_search(name=name, location=location, business_line=business_line, page=page)
        lookup.fetched_at = timezone.now()
    except CompanyRegisterUnavailable as error:
        lookup.error = str(error)
    return lookup


@transaction.atomic
def companies_add(*, actor, register, companies: list[CompanyFacts]) -> CompaniesAdded:
    """Add the chosen companies as organisations of the register; skip those whose business ID it has."""
    if not user_may_import(user=actor, register=register):
        raise PermissionDenied(ERROR_NO_ADD_RIGHT)
    if not register.collects("business_id"):
        raise ValidationError(ERROR_NO_BUSINESS_IDS, code="no_business_ids")
    if not companies:
        raise ValidationError(ERROR_NOTHING_CHOSEN, code="nothing")
    have = set(
        Customer.objects.filter(register=register, business_id__in=[c.business_id for c in companies]).values_list(
            "business_id", flat=True
        )
    )
    result, fetched_at = CompaniesAdded(), timezone.now()
    collected = {"organisation_name", *Customer.fields_collected_by(register)}
    for facts in companies:
        if facts.business_id in have:
            result.already.append(str(facts))
            continue
        have.add(facts.business_id)
        data = {
            name: value
            for name, value in initial_from_facts(facts).items()
            if name in collected | {"organisation_name"}
        }
        data["kind"] = Customer.Kind.ORGANISATION
        result.added.append(
            customer_create(actor=actor, register=register, data=data, company_record=company_record(facts, fetched_at))
        )
    return result
