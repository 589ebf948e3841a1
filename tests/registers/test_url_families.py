"""Every screen of access governance refuses the wrong people, and a revoked or
expired user gets no data from any register URL."""

import datetime
import re
import uuid

import pytest
from django.utils import timezone

from registers import access_review as ar
from registers.models import Membership, Role
from registers.services import membership_end

from ..conftest import grant
from ..factories import CustomerFactory, UserFactory
from ..test_permission_matrix import ROUTES, rule_for
from ..url_walk import CONVERTER

pytestmark = pytest.mark.django_db

# (url template, methods); {r} is the register slug, {review} a review code, {item} an item code.
FAMILIES = [
    ("/registers/{r}/access/", "get"),
    ("/registers/{r}/access/grant/", "post"),
    ("/registers/{r}/access/{membership}/end/", "post"),
    ("/registers/{r}/reviews/", "get"),
    ("/registers/{r}/reviews/open/", "post"),
    ("/registers/{r}/reviews/{review}/", "get"),
    ("/registers/{r}/reviews/{review}/items/{item}/decide/", "post"),
    ("/registers/{r}/reviews/{review}/complete/", "post"),
    ("/registers/{r}/reviews/{review}/evidence.pdf", "get"),
    ("/registers/{r}/audit/changes/", "get"),
    ("/registers/{r}/audit/changes/?format=csv", "get"),
    ("/registers/{r}/audit/access/", "get"),
    ("/registers/{r}/audit/logins/", "get"),
]
MANAGE_FAMILIES = {url for url, _method in FAMILIES if url.startswith("/registers/{r}/access/")}


@pytest.fixture
def urls(register_a, owner_a, staff_a):
    review = ar.access_review_open(register=register_a, actor=owner_a)
    values = {
        "r": register_a.slug,
        "review": review.code,
        "item": review.items.get(user=staff_a).code,
        "membership": Membership.objects.get(user=staff_a).code,
    }
    return [(template, template.format(**values), method) for template, method in FAMILIES]


def call(client, url, method):
    return client.get(url) if method == "get" else client.post(url, {"reason": "x", "decision": "keep"})


def test_anonymous_visitors_are_sent_to_login(client, urls):
    for _template, url, method in urls:
        response = call(client, url, method)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_another_registers_user_gets_404(client, urls, staff_b):
    client.force_login(staff_b)
    for _template, url, method in urls:
        assert call(client, url, method).status_code == 404, url


def test_a_user_of_the_register_without_the_right_gets_403(client, urls, staff_a):
    client.force_login(staff_a)
    for _template, url, method in urls:
        assert call(client, url, method).status_code == 403, url


def test_a_handler_manages_access_but_cannot_review_or_audit(client, urls, handler_a):
    client.force_login(handler_a)
    for template, url, method in urls:
        if template in MANAGE_FAMILIES and method == "get":
            assert call(client, url, method).status_code == 200, url
        elif template not in MANAGE_FAMILIES:
            assert call(client, url, method).status_code == 403, url


def revoked(register, owner):
    user = UserFactory(username="revoked")
    membership = grant(user, register, Role.STAFF)
    membership_end(actor=owner, membership=membership, reason="Tehtävät päättyivät")
    return user


def expired(register):
    # The end date has passed but the hourly sync has not run yet.
    user = UserFactory(username="expired")
    membership = grant(user, register, Role.OWNER)
    Membership.objects.filter(pk=membership.pk).update(
        starts_on=timezone.localdate() - datetime.timedelta(days=30),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    return user


def fill(route: str, register_slug: str) -> str:
    """Fill a route's converters: the register's slug, and random keys elsewhere."""

    def value(match):
        kind, name = match.group("kind"), match.group("name")
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "int":
            return "1"
        return register_slug if name in {"register", "slug"} else "x"

    return "/" + CONVERTER.sub(value, route)


def is_public(route: str, name: str | None) -> bool:
    rule = rule_for(name, route)
    return rule is not None and rule.public


REGISTER_ROUTES = [
    route
    for route, name, _view in ROUTES
    if CONVERTER.search(route)
    and not route.startswith("admin/")
    and not is_public(route, name)
    and re.search(r"<slug:(register|slug)>", route)
]


@pytest.mark.parametrize("kind", ["revoked", "expired"])
@pytest.mark.parametrize("route", REGISTER_ROUTES)
def test_a_revoked_or_expired_user_gets_nothing_from_any_register_url(client, register_a, owner_a, kind, route):
    user = revoked(register_a, owner_a) if kind == "revoked" else expired(register_a)
    client.force_login(user)
    url = fill(route, register_a.slug)
    statuses = {client.get(url).status_code, client.post(url, {}).status_code}
    assert 404 in statuses, (url, statuses)
    assert statuses <= {404, 405}, (url, statuses)


@pytest.mark.parametrize("kind", ["revoked", "expired"])
def test_a_revoked_or_expired_user_cannot_open_a_real_customer(client, register_a, owner_a, kind):
    customer = CustomerFactory(register=register_a, organisation_name="Todellinen Oy")
    user = revoked(register_a, owner_a) if kind == "revoked" else expired(register_a)
    client.force_login(user)
    assert client.get(customer.get_absolute_url()).status_code == 404
    assert client.get(f"/crm/{register_a.slug}/customers.csv").status_code == 404
    home = client.get("/").content.decode()
    assert register_a.name_fi not in home
