"""Property-based calls generated from the OpenAPI document (/api/v1/schema/) against the Django WSGI app.

Every operation of the document is called with bounded generated input by two clients: one with read-and-write
scope on register A, one with scope on register B only. No call may answer 5xx, a documented response must match
its schema, and no answer to B's client may contain register A's marker strings. Path parameters are the
generated ones half of the time, and the world's real objects (from the API matrix's rules) the other half, so the
generated bodies also reach real rows.
"""

import re
import uuid

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from .test_api_matrix import MARKERS, RULES, build_world

pytestmark = pytest.mark.django_db

# Bounded: the generated phase only (the matrix test covers every method of every route), a few examples each.
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}, "generation": {"max-examples": 10}}
)
PARAMETER = re.compile(r"\{(\w+)\}")


@pytest.fixture
def wsgi_app():
    # The test client leaves a request's end to the test's transaction; a bare WSGI call would close the
    # connection at each request's start and end, so the same is done here.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(wsgi_app):
    return build_world()


@pytest.fixture
def api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


def _real_path_parameters(case, world, side: str) -> None:
    """Put the world's register slug and objects of `side` in the case's path parameters."""
    template = case.operation.path
    probe = PARAMETER.sub(
        lambda m: world.registers["A"].slug if m.group(1) == "slug" else str(uuid.UUID(int=1)), template
    )
    try:
        name = resolve(probe).view_name
    except Resolver404:
        return
    rule = RULES.get(name) or {}
    for parameter in PARAMETER.findall(template):
        if parameter == "slug":
            case.path_parameters["slug"] = world.registers[side].slug
        elif parameter in rule:
            case.path_parameters[parameter] = rule[parameter](world.objects[side])


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_generated_calls_never_fail_and_never_leak(case, world):
    for label, side, other in (("write", "A", "B"), ("b_only", "B", "A")):
        if case.path_parameters and hash(repr(case.body)) % 2 == 0:
            _real_path_parameters(case, world, side)
        response = case.call(headers={"Authorization": f"Api-Key {world.keys[label]}", "Accept-Language": "en"})
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        assert MARKERS[other] not in response.text, f"{label} saw register {other}'s data: {case.as_curl_command()}"
