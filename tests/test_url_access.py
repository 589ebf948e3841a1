"""Deny by default (issue 8): walk every URL pattern of the project.

Anonymous visitors are sent to the login page unless the view is one of the
few public ones listed here; a signed-in user without a role in a register
gets 404 from every URL of that register.
"""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from .factories import UserFactory

# The public surface: login and password reset, the language switch, the public
# request form with its confirmation and status pages, and register descriptions.
PUBLIC_URL_NAMES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
}
PUBLIC_ROUTES = [
    re.compile(r"^registers/<slug:slug>/description(/|\.pdf)$"),
    re.compile(r"^privacy/request/"),
]
# The admin site has its own staff login in front of every view.
SKIPPED_PREFIXES = ("admin/",)
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{pattern.namespace}:" if pattern.namespace else ""
            for route, name, view in walk(pattern.url_patterns, prefix + str(pattern.pattern)):
                yield route, (namespace + name) if name else None, view
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, pattern.callback


def project_routes():
    for route, name, view in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or route.startswith("^") or "(?P" in route:
            continue
        yield route, name, view


def fill(route: str, register_slug: str) -> str:
    def value(match):
        kind, name = match.group("kind"), match.group("name")
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "int":
            return "1"
        if name in {"register", "slug"}:
            return register_slug
        return "x"

    return "/" + CONVERTER.sub(value, route)


def is_public(route: str, name: str | None) -> bool:
    return name in PUBLIC_URL_NAMES or any(pattern.search(route) for pattern in PUBLIC_ROUTES)


ROUTES = list(project_routes())


def test_the_walk_covers_the_project():
    assert len(ROUTES) >= 5


def test_only_the_listed_views_are_public():
    public_views = {route for route, _name, view in ROUTES if not getattr(view, "login_required", True)}
    names = {route: name for route, name, _view in ROUTES}
    unexpected = {route for route in public_views if not is_public(route, names[route])}
    assert unexpected == set(), "public views must be listed in PUBLIC_URL_NAMES or PUBLIC_ROUTES"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), [(r, n) for r, n, _v in ROUTES], ids=[r for r, _n, _v in ROUTES])
def test_anonymous_visitors_are_sent_to_login(client, register_a, route, name):
    url = fill(route, register_a.slug)
    response = client.get(url)
    if is_public(route, name):
        assert response.status_code != 500
        return
    assert response.status_code == 302, url
    assert response["Location"].startswith("/accounts/login/"), url


REGISTER_ROUTES = [r for r, n, _v in ROUTES if not is_public(r, n) and re.search(r"<slug:(register|slug)>", r)]


@pytest.mark.django_db
@pytest.mark.parametrize("route", REGISTER_ROUTES)
def test_a_user_without_a_role_in_the_register_gets_404(client, register_a, staff_b, route):
    client.force_login(staff_b)
    url = fill(route, register_a.slug)
    statuses = {client.get(url).status_code, client.post(url, {}).status_code}
    # A view answers one method with 405 before looking anything up; the other must be 404.
    assert 404 in statuses, (url, statuses)
    assert statuses <= {404, 405}, (url, statuses)


@pytest.mark.django_db
def test_a_user_without_any_role_sees_no_register(client, register_a):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert register_a.name_fi not in response.content.decode()
