"""Every read through the API writes an access entry: each GET route under /api/v1/ (from the URL configuration, so
a new route is covered the day it is added), one entry for the call that names its path, and for a list its rows
and filters as an export's entry does, never the typed value of a search.

The schema and its docs are public and read no data (tests/api/test_api_matrix.py); the Helsinki-profile GDPR API
logs each record it reads (tests/api/gdpr/test_profile_data.py).
"""

import dataclasses
import json

import pytest
from auditlog.models import LogEntry

from ..factories import ContactPersonFactory, CustomerFactory, InteractionFactory, PersonCustomerFactory
from ..url_walk import CONVERTER
from .factories import KEEPER, READ, KeyClient, api_client
from .records.world import side
from .test_api_matrix import PUBLIC, api_routes, offered

pytestmark = pytest.mark.django_db

ROUTES = [(route, name) for route, name, view in api_routes() if name not in PUBLIC and "GET" in offered(view)]
SEARCHED = "Ulriikka"
# URL name → the world's object for each kwarg (the slug is the register's, see `fill`).
OBJECTS = {
    "api:customer-detail": {"code": "customer"},
    "api:contact-person-list": {"code": "organisation"},
    "api:contact-person-detail": {"code": "organisation", "person": "contact"},
    "api:interaction-list": {"code": "customer"},
    "api:interaction-detail": {"code": "customer", "interaction": "interaction"},
    "api:invoice-detail": {"code": "invoice"},
    "api:message-detail": {"code": "message"},
    "api:request-detail": {"code": "request"},
    "api:import-detail": {"code": "batch"},
    "api:duplicate-detail": {"code": "candidate"},
}
IN_CONTACT_CENTRE = {"api:message-list", "api:message-detail"}


@dataclasses.dataclass
class World:
    objects: dict
    client: object
    http: KeyClient


def build_world() -> World:
    mine = side("mine")
    organisation = CustomerFactory(register=mine.customers)
    customer = PersonCustomerFactory(register=mine.customers, first_name=SEARCHED)
    objects = {
        "customers": mine.customers,
        "contact_centre": mine.contact_centre,
        "customer": customer,
        "organisation": organisation,
        "contact": ContactPersonFactory(customer=organisation),
        "interaction": InteractionFactory(customer=customer),
        "invoice": mine.invoice,
        "message": mine.message,
        "request": mine.request,
        "batch": mine.batch,
        "candidate": mine.candidate,
    }
    client, key = api_client({mine.customers: KEEPER, mine.contact_centre: READ})
    return World(objects=objects, client=client, http=KeyClient(key, HTTP_ACCEPT_LANGUAGE="en"))


def fill(route: str, name: str, world: World) -> str:
    def value(match):
        kwarg = match.group("name")
        if kwarg == "slug":
            register = world.objects["contact_centre" if name in IN_CONTACT_CENTRE else "customers"]
            return register.slug
        return str(world.objects[OBJECTS[name][kwarg]].code)

    return "/" + CONVERTER.sub(value, route)


def test_every_api_read_has_its_objects():
    assert {"api:register-list", "api:me", "api:customer-list", "api:invoice-detail"} <= {n for _r, n in ROUTES}
    for route, name in ROUTES:
        kwargs = {m.group("name") for m in CONVERTER.finditer(route)} - {"slug"}
        assert kwargs <= set(OBJECTS.get(name, {})), f"{name}: add its objects to OBJECTS"


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name for _route, name in ROUTES])
def test_every_api_read_writes_an_access_entry_for_the_call(route, name):
    world = build_world()
    path = fill(route, name, world)
    is_list = name.endswith("-list")
    query = {"modified_since": "2000-01-01T00:00:00+00:00", "search": SEARCHED, "q": SEARCHED} if is_list else {}

    response = world.http.get(path, query)

    assert response.status_code == 200, response.content
    calls = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=world.client.user, additional_data__path=path
    ).order_by("pk")
    for entry in calls:
        assert entry.additional_data["api_client"] == world.client.name
        assert SEARCHED not in json.dumps(entry.additional_data)
    if not is_list:
        assert calls.count() == 1
        return
    # A list: one entry for the call (besides any entry per row it returned), with its rows and filters.
    [call] = [entry for entry in calls if "rows" in entry.additional_data]
    body = response.json()
    returned = body["results"] if isinstance(body, dict) else body
    assert call.additional_data["rows"] == len(returned)
    assert call.additional_data["filter"]["modified_since"] == query["modified_since"]
    assert call.additional_data["filter"]["search"] is True
