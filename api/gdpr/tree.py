"""A person's data as the Helsinki profile's Node tree: `{key, value}` or `{key, children}`, values strings only.

Built from the access answer's own collector (privacy.requests.access_package.Collector), so the profile's download
and an access answer never show different data; only the formatting differs (ISO dates, "true"/"false").
"""

import functools
import re

from django.conf import settings
from django.utils import translation

from crm.models import Customer
from privacy.requests.access_package import Collector, disclosures_of, machine_value, processing_dates
from privacy.requests.models import SubjectMatch

ROOT_KEY = "REKISTERI"


@functools.lru_cache(maxsize=256)
def node_key(name: str) -> str:
    """Return a name as SNAKE_CASE_CAPS."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "VALUE"


def _leaf(key: str, value) -> dict:
    return {"key": node_key(key), "value": str(value)}


def _branch(key: str, children: list[dict]) -> dict:
    return {"key": node_key(key), "children": children}


def _row(key: str, row: dict) -> dict:
    """A dict of text values (an interaction, a follow-up) as a branch of its non-empty values."""
    return _branch(key, [_leaf(name, value) for name, value in row.items() if value not in ("", None)])


def _field_rows(fields: list[dict]) -> list[dict]:
    return [_leaf(field["name"], field["value"]) for field in fields]


def customer_node(record: dict) -> dict:
    """One customer record of the collector as a CUSTOMER branch."""
    children = _field_rows(record["fields"])
    lists = (
        ("interactions", "interaction", [_row("interaction", row) for row in record["interactions"]]),
        ("followups", "followup", [_row("followup", row) for row in record["followups"]]),
        ("invoices", "invoice", [_branch("invoice", _field_rows(fields)) for fields in record["invoices"]]),
        # Each with the text the person was shown, in the language shown (GDPR 7(1)).
        ("consents", "consent", [_row("consent", row) for row in record["consents"]]),
        ("objections", "objection", [_row("objection", row) for row in record["objections"]]),
        (
            "contact_persons",
            "contact_person",
            [_branch("contact_person", _field_rows(fields)) for fields in record["contact_persons"]],
        ),
    )
    for name, _item, nodes in lists:
        if nodes:
            children.append(_branch(name, nodes))
    if record["withheld_contact_persons"]:
        children.append(_leaf("withheld_contact_persons", record["withheld_contact_persons"]))
    return _branch("customer", children)


def profile_tree(customers: list[Customer]) -> dict:
    """Return the Node tree of the customers found by one profile id: one REGISTER branch per register."""
    with translation.override(settings.LANGUAGE_CODE):
        # Only the customers themselves are the person; an organisation's contact persons are other people.
        collector = Collector(matched_people=set(), value_of=machine_value)
        by_register: dict[int, list[Customer]] = {}
        for customer in customers:
            by_register.setdefault(customer.register_id, []).append(customer)
        registers = []
        for rows in by_register.values():
            register = rows[0].register
            # The records as an access request's confirmed matches (unsaved): the answer's sources read them so.
            matches = [SubjectMatch(register=register, customer=customer) for customer in rows]
            children = [
                _leaf("name", register.name),
                _leaf("controller", register.organisation.name),
                _branch("customers", [customer_node(collector.customer(c)) for c in rows]),
            ]
            disclosures = [_row("disclosure", row) for row in disclosures_of(matches, register)]
            if disclosures:
                children.append(_branch("disclosures", disclosures))
            days = processing_dates(matches)
            if days:
                children.append(_branch("processing_dates", [_leaf("date", day) for day in days]))
            registers.append(_branch("register", children))
        return _branch(ROOT_KEY, registers)
