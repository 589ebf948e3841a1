"""Who may do what: every endpoint and method, for a read scope, a write scope, no scope (404, also for another
register's codes under the client's own slug) and a revoked key (401)."""

import pytest

from api.services import api_client_revoke
from crm.models import ContactPerson, Customer, Interaction

from ..factories import main_user

pytestmark = pytest.mark.django_db

CUSTOMER = {"kind": "organisation", "organisation_name": "Uusi Oy"}
PERSON = {"last_name": "Virtanen"}
INTERACTION = {"kind": "note", "subject": "Soitto"}


def reads(s):
    return [
        f"{s.base}/customers/",
        s.customer_url,
        f"{s.customer_url}contact-persons/",
        s.person_url,
        f"{s.customer_url}interactions/",
        s.interaction_url,
        f"{s.base}/contact-persons/",
        f"{s.base}/interactions/",
    ]


def writes(s):
    """(method, url, body) for every change the API offers."""
    return [
        ("post", f"{s.base}/customers/", CUSTOMER),
        ("put", s.customer_url, CUSTOMER),
        ("patch", s.customer_url, {"city": "Espoo"}),
        ("delete", s.customer_url, None),
        ("post", f"{s.customer_url}contact-persons/", PERSON),
        ("put", s.person_url, PERSON),
        ("patch", s.person_url, {"title": "Johtaja"}),
        ("delete", s.person_url, None),
        ("post", f"{s.customer_url}interactions/", INTERACTION),
        ("put", s.interaction_url, INTERACTION),
        ("patch", s.interaction_url, {"subject": "Tapaaminen"}),
        ("delete", s.interaction_url, None),
    ]


def call(caller, method, url, body, etag='"1"'):
    extra = {"HTTP_IF_MATCH": etag} if method != "post" else {}
    if method == "delete":
        return caller.delete(url, **extra)
    return getattr(caller, method)(url, body, **extra)


def counts():
    return (Customer.objects.count(), ContactPerson.objects.count(), Interaction.objects.count())


def test_a_read_scope_reads_every_endpoint(a, reader):
    for url in reads(a):
        response = reader.get(url)
        assert response.status_code == 200, url


def test_a_read_scope_may_not_change_anything(a, reader):
    before = counts()
    for method, url, body in writes(a):
        response = call(reader, method, url, body)
        assert response.status_code == 403, (method, url, response.content)
        assert response["Content-Type"] == "application/problem+json"
    assert counts() == before
    a.customer.refresh_from_db()
    assert a.customer.version == 1


@pytest.mark.parametrize("scope", ["reader", "writer"])
def test_another_registers_objects_are_404_for_every_endpoint_and_method(a, b, scope, request):
    caller = request.getfixturevalue(scope)
    before = counts()
    for url in reads(b):
        assert caller.get(url).status_code == 404, url
    for method, url, body in writes(b):
        assert call(caller, method, url, body).status_code == 404, (method, url)
    assert counts() == before


@pytest.mark.parametrize("scope", ["reader", "writer"])
def test_another_registers_codes_under_the_clients_own_slug_are_404(a, b, scope, request):
    """IDOR: B's customer under A's slug, and B's contact person and interaction under A's customer."""
    caller = request.getfixturevalue(scope)
    crossed = [
        f"{a.base}/customers/{b.customer.code}/",
        f"{a.base}/customers/{b.customer.code}/contact-persons/",
        f"{a.base}/customers/{b.customer.code}/interactions/",
        f"{a.customer_url}contact-persons/{b.person.code}/",
        f"{a.customer_url}interactions/{b.interaction.code}/",
        f"{a.base}/customers/{b.customer.code}/contact-persons/{b.person.code}/",
        f"{a.base}/customers/{b.customer.code}/interactions/{b.interaction.code}/",
    ]
    before = counts()
    for url in crossed:
        assert caller.get(url).status_code == 404, url
        for method in ("put", "patch", "delete"):
            assert call(caller, method, url, {"subject": "x"}).status_code in (404, 405), (method, url)
        assert caller.post(url, {"last_name": "x", "subject": "x", "kind": "note"}).status_code in (404, 405), url
    assert counts() == before
    b.customer.refresh_from_db()
    assert b.customer.version == 1


def test_the_register_wide_lists_leave_out_other_registers_rows(a, b, reader):
    for kind, row in (("contact-persons", a.person), ("interactions", a.interaction)):
        codes = [item["code"] for item in reader.get(f"{a.base}/{kind}/").json()["results"]]
        assert codes == [str(row.code)]


def test_a_write_scope_may_create_and_change(a, writer, own_interaction):
    created = writer.post(f"{a.base}/customers/", CUSTOMER)
    assert created.status_code == 201, created.content
    assert writer.patch(a.customer_url, {"city": "Espoo"}, HTTP_IF_MATCH='"1"').status_code == 200
    assert writer.post(f"{a.customer_url}contact-persons/", PERSON).status_code == 201
    assert writer.patch(a.person_url, {"title": "Johtaja"}, HTTP_IF_MATCH='"1"').status_code == 200
    assert writer.post(f"{a.customer_url}interactions/", INTERACTION).status_code == 201
    own = f"{a.customer_url}interactions/{own_interaction.code}/"
    assert writer.patch(own, {"subject": "Korjattu"}, HTTP_IF_MATCH='"1"').status_code == 200
    assert writer.delete(own).status_code == 204
    assert writer.delete(a.person_url).status_code == 204
    assert not ContactPerson.objects.filter(pk=a.person.pk).exists()


def test_a_client_may_not_delete_a_customer_whatever_its_scope(a, writer):
    response = writer.delete(a.customer_url)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert Customer.objects.filter(pk=a.customer.pk).exists()


def test_a_client_may_not_change_an_entry_someone_else_recorded(a, writer):
    before = a.interaction.subject
    assert writer.patch(a.interaction_url, {"subject": "Muutettu"}, HTTP_IF_MATCH='"1"').status_code == 403
    assert writer.delete(a.interaction_url).status_code == 403
    a.interaction.refresh_from_db()
    assert a.interaction.subject == before


def test_a_revoked_key_is_401_on_every_endpoint(a, writer):
    api_client_revoke(actor=main_user(), client=writer.api_client, reason="Sopimus päättyi")
    before = counts()
    for url in reads(a):
        assert writer.get(url).status_code == 401, url
    for method, url, body in writes(a):
        assert call(writer, method, url, body).status_code == 401, (method, url)
    assert counts() == before
