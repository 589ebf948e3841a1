"""The API's class test: every route under /api/v1/, by every method it offers (and the ones it does not), by every
kind of client, against one world of two registers.

Clients:
    read      read scope (api_read) on register A
    write     read-and-write scope (api_write) on register A
    b_only    read-and-write scope on register B only
    revoked   a client of A whose key was revoked
    expired   a client of A whose key has expired
    none      no key at all

Each route's URL kwargs come from `RULES` (its URL name → how to fill each kwarg from the world); a route under
/api/v1/ with no rule fails `test_every_api_route_has_a_rule`, so a new route must be added here. Each route is
filled with A's objects, and (for routes with objects) with B's objects under A's slug: the IDOR probe.

Expected:
    none / revoked / expired            401 on every route but the public schema and docs
    b_only on A's URLs                  404 (405 for a method the route does not offer)
    read writing                        403 (405 for a method the route does not offer)
    any client on B's objects under A   404 (405 for a method the route does not offer)
    read / write reading A              200 (a few routes: 404 when the object kind is not in a customer register)
    write writing A                     never 5xx, never 401/404 (400, 403, 412, 428, 2xx are all answers)
and no response to a client without scope on a register ever contains that register's marker strings.
"""

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from api.models import APIClient
from api.services import api_client_revoke
from duplicates.models import DuplicateCandidate
from imports.services import import_batch_create
from privacy.requests import services as request_services
from privacy.requests.models import DataSubjectRequest
from registers.models import Role

from ..conftest import grant
from ..factories import (
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from ..url_walk import CONVERTER, project_routes
from .factories import KEEPER, READ, WRITE, KeyClient, api_client

pytestmark = pytest.mark.django_db

PREFIX = "api/v1/"
METHODS = ("GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MARKERS = {"A": "Qaxmarker", "B": "Qbxmarker"}
PUBLIC = {"api:schema", "api:docs"}


def api_routes():
    return [(route, name, view) for route, name, view in project_routes() if route.startswith(PREFIX)]


@dataclass
class World:
    registers: dict
    objects: dict  # side → kind → object
    keys: dict  # client label → key or None


def _side(register, side: str, owner) -> dict:
    marker = MARKERS[side]
    customer = PersonCustomerFactory(
        register=register, first_name=f"Aino{marker}", last_name=marker, email=f"{marker.lower()}@example.fi"
    )
    contact = ContactPersonFactory(
        customer=CustomerFactory(register=register, organisation_name=f"Oy {marker}"), last_name=marker
    )
    interaction = InteractionFactory(customer=customer, subject=f"Meeting {marker}")
    invoice = InvoiceFactory(customer=customer, number=f"INV-{marker}")
    upload = SimpleUploadedFile("asiakkaat.csv", f"Nimi;Kunta\nOy {marker};Espoo\n".encode(), content_type="text/csv")
    batch = import_batch_create(actor=owner, register=register, file=upload, file_name=f"{marker}.csv")
    twins = sorted(
        [CustomerFactory(register=register, organisation_name=f"Kaksonen {marker} Oy") for _ in range(2)],
        key=lambda twin: twin.pk,
    )
    candidate = DuplicateCandidate.objects.create(register=register, first=twins[0], second=twins[1], score=0.9)
    request, _created = request_services.request_submit(
        organisation=register.organisation,
        registers=[register],
        all_registers=False,
        data={
            "kind": DataSubjectRequest.Kind.ACCESS,
            "requester_name": f"Pyytäjä {marker}",
            # A new address each time: the public form's per-address rate limit counts across tests.
            "requester_email": f"pyytaja.{marker.lower()}.{uuid.uuid4().hex[:12]}@example.fi",
            "language": "en",
            "delivery": DataSubjectRequest.Delivery.ELECTRONIC,
        },
    )
    return {
        "register": register,
        "customer": customer,
        "contact_customer": contact.customer,
        "contact": contact,
        "interaction": interaction,
        "invoice": invoice,
        "batch": batch,
        "candidate": candidate,
        "request": request,
    }


def build_world() -> World:
    registers = {"A": RegisterFactory(slug="matrix-a"), "B": RegisterFactory(slug="matrix-b")}
    owner = UserFactory(username="matrix_owner")
    for register in registers.values():
        grant(owner, register, Role.OWNER)
    objects = {side: _side(register, side, owner) for side, register in registers.items()}
    keys = {
        "read": api_client({registers["A"]: READ}, name="read-a")[1],
        "write": api_client({registers["A"]: WRITE}, name="write-a")[1],
        "keeper": api_client({registers["A"]: KEEPER}, name="keeper-a")[1],
        "b_only": api_client({registers["B"]: WRITE}, name="b-only")[1],
        "none": None,
    }
    revoked, keys["revoked"] = api_client({registers["A"]: WRITE}, name="revoked-a")
    api_client_revoke(actor=main_user_get(), client=revoked, reason="matrix")
    expired, keys["expired"] = api_client({registers["A"]: WRITE}, name="expired-a")
    APIClient.objects.filter(pk=expired.pk).update(expiry_date=timezone.now() - datetime.timedelta(minutes=1))
    return World(registers=registers, objects=objects, keys=keys)


def main_user_get():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="api-main")


# URL name → kwarg → (side → value). `slug` is always the register's slug and is filled by `fill`.
# A rule of None means the route has no object of its own beyond the register.
def _code(kind):
    return lambda objects: str(objects[kind].code)


RULES: dict[str, dict | None] = {
    "api:register-list": None,
    "api:register-detail": None,
    "api:me": None,
    "api:schema": None,
    "api:docs": None,
    "api:customer-list": None,
    "api:customer-detail": {"code": _code("customer")},
    "api:contact-person-list": {"code": _code("contact_customer")},
    "api:contact-person-detail": {"code": _code("contact_customer"), "person": _code("contact")},
    "api:interaction-list": {"code": _code("customer")},
    "api:interaction-detail": {"code": _code("customer"), "interaction": _code("interaction")},
    "api:register-contact-person-list": None,
    "api:register-interaction-list": None,
    "api:invoice-list": None,
    "api:invoice-detail": {"code": _code("invoice")},
    "api:message-list": None,
    # A customer register holds no contact-centre messages: any code is unknown there, for every client.
    "api:message-detail": {"code": lambda objects: str(uuid.UUID(int=7))},
    "api:request-list": None,
    "api:request-detail": {"code": _code("request")},
    "api:import-list": None,
    "api:import-detail": {"code": _code("batch")},
    "api:duplicate-list": None,
    "api:duplicate-detail": {"code": _code("candidate")},
}
# Routes of the keepers' records (data-subject requests, import batches, duplicate candidates): the keeper's scope
# reads them; the read and write scopes hold no right to (403, or an empty list or 404 where a selector answers so).
KEEPERS_ONLY = {
    "api:request-list",
    "api:request-detail",
    "api:import-detail",
    "api:duplicate-list",
    "api:duplicate-detail",
}
# Contact-centre messages, which a customer register does not have: 404 for every client, never data.
NOT_IN_A_CUSTOMER_REGISTER = {"api:message-list", "api:message-detail"}
# Known faults of other parts, each a strict expected failure: (URL name, method, client label or "*") → why.
# A cell listed here that starts to pass fails the test, so the entry is removed when the fault is fixed.
KNOWN: dict[tuple[str, str, str], str] = {}


def fill(route: str, name: str, world: World, *, objects_of: str) -> str:
    """The route's path with A's slug and the objects of side `objects_of`."""
    rule = RULES[name] or {}
    objects = world.objects[objects_of]

    def value(match):
        kwarg = match.group("name")
        if kwarg == "slug":
            return world.registers["A"].slug
        return rule[kwarg](objects)

    return "/" + CONVERTER.sub(value, route)


def offered(view) -> set[str]:
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    return {method for method in METHODS if cls is not None and hasattr(cls, method.lower())} | {"OPTIONS"}


def call(key, method: str, path: str):
    # A server error is a 500 answer to check, not an exception that ends the route's test.
    client = KeyClient(key, raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    if method == "OPTIONS":
        return client.options(path)
    if method == "DELETE":
        # Undone at once, so that every cell meets the same world: two clients may delete the same row.
        with transaction.atomic():
            response = client.delete(path, {})
            transaction.set_rollback(True)
        return response
    return getattr(client, method.lower())(path, {} if method in WRITES else None)


def expected(label: str, method: str, name: str, methods: set[str], *, cross: bool) -> set[int] | None:
    """The allowed statuses of one cell, or None for "any answer but 5xx, 401 and 404"."""
    if name in PUBLIC:
        return {200} if method == "GET" else {401, 405}
    if label in {"none", "revoked", "expired"}:
        return {401}
    if method == "OPTIONS":
        # No metadata answers (the OpenAPI document describes every route): never data, never an error.
        return {405}
    if method not in methods:
        return {405}
    if label == "b_only":
        return {200} if name in {"api:register-list", "api:me"} else {404}
    if label == "read" and method in WRITES:
        return {404} if cross else {403}
    if name in NOT_IN_A_CUSTOMER_REGISTER or (name in KEEPERS_ONLY and label != "keeper"):
        # Refused for the missing right before any object is looked up (also B's under A's slug), or not found;
        # a write client may file a data-subject request (400 for an empty body).
        return {403, 404} if method == "GET" else {400, 403, 404, 405}
    if cross:
        return {404}
    if method == "GET":
        return {200}
    return None


ROUTES = api_routes()


def test_every_api_route_has_a_rule():
    missing = sorted({name or route for route, name, _view in ROUTES} - RULES.keys())
    assert not missing, f"add a kwargs rule to RULES for the new API routes: {missing}"
    for route, name, _view in ROUTES:
        kwargs = {m.group("name") for m in CONVERTER.finditer(route)} - {"slug"}
        assert kwargs <= set((RULES[name] or {}).keys()), f"{name}: no rule for {kwargs}"


def test_the_walk_sees_the_api():
    names = {name for _route, name, _view in ROUTES}
    assert {"api:register-list", "api:me", "api:customer-detail", "api:invoice-detail"} <= names


@pytest.mark.parametrize(("route", "name", "view"), ROUTES, ids=[name or route for route, name, _v in ROUTES])
def test_every_client_gets_exactly_its_answer_on_every_method(route, name, view):
    assert name in RULES, f"no rule for {name}: add it to RULES"
    world = build_world()
    methods = offered(view)
    has_objects = bool(RULES[name]) or "<slug" in route
    probes = [("A", False)] + ([("B", True)] if RULES[name] else [])
    failures = []
    known_hits: dict = {}
    for label in ("none", "revoked", "expired", "b_only", "read", "keeper", "write"):
        for method in METHODS:
            for side, cross in probes:
                path = fill(route, name, world, objects_of=side)
                response = call(world.keys[label], method, path)
                status = response.status_code
                allowed = expected(label, method, name, methods, cross=cross)
                ok = status < 500 and status not in (401, 404) if allowed is None else status in allowed
                if not ok:
                    message = f"{label} {method} {path}: {status}, expected {sorted(allowed or ['<500'])}"
                    known = KNOWN.get((name, method, label)) or KNOWN.get((name, method, "*"))
                    if known:
                        known_hits.setdefault((method, label), message)
                    else:
                        failures.append(message)
                body = response.content.decode(errors="replace")
                unseen = {"read": "B", "write": "B", "keeper": "B", "b_only": "A"}.get(label)
                for leaked_side in [unseen] if unseen else ["A", "B"]:
                    if MARKERS[leaked_side] in body:
                        failures.append(f"{label} {method} {path}: body shows register {leaked_side}'s data")
    assert not failures, f"{name} ({route}, has objects: {has_objects}):\n" + "\n".join(failures)
    for (known_name, method, label), reason in KNOWN.items():
        if known_name != name:
            continue
        hit = any(m == method and (label in ("*", hit_label)) for m, hit_label in known_hits)
        assert hit, f"{name} {method} {label} now passes: remove it from KNOWN ({reason})"
    if known_hits:
        reasons = {KNOWN.get((name, m, lab)) or KNOWN.get((name, m, "*")) for m, lab in known_hits}
        pytest.xfail("; ".join(sorted(reasons)) + "\n" + "\n".join(known_hits.values()))
