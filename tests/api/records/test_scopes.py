"""Every records endpoint by every scope: read 200, another register 404 (also with its code under our slug),
no key 401, writes refused; requests, imports and duplicates open to the keeper's scope only, and only to read."""

import pytest
from auditlog.models import LogEntry

from registers.models import Role

from ..factories import KEEPER, READ, WRITE, KeyClient, api_client
from .world import give_human_role, side

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registers"
READABLE = ["invoices", "messages"]
# Closed to the read and the write scope: only the keeper's scope reads them (and no scope handles, imports or merges).
CLOSED_LIST_STATUS = {"data-subject-requests": 403, "imports": 200, "duplicates": 403}
CLOSED_DETAIL_STATUS = {"data-subject-requests": 403, "imports": 404, "duplicates": 403}
ALL = READABLE + list(CLOSED_LIST_STATUS)


@pytest.fixture
def mine():
    return side("mine")


@pytest.fixture
def theirs():
    return side("theirs")


def list_url(register, resource):
    return f"{BASE}/{register.slug}/{resource}/"


def detail_url(register, resource, obj):
    return f"{BASE}/{register.slug}/{resource}/{obj.code}/"


def keyed(mine, scope):
    client, key = api_client({mine.customers: scope, mine.contact_centre: scope})
    return client, KeyClient(key)


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize("scope", [READ, WRITE, KEEPER])
@pytest.mark.parametrize("resource", READABLE)
def test_a_scope_reads_its_registers_rows_and_no_others(mine, theirs, resource, scope):
    _client, http = keyed(mine, scope)
    register = mine.register_of(resource)

    listed = http.get(list_url(register, resource))
    detail = http.get(detail_url(register, resource, mine.object_of(resource)))

    assert listed.status_code == 200
    assert [row["code"] for row in listed.json()["results"]] == [str(mine.object_of(resource).code)]
    assert str(theirs.object_of(resource).code) not in listed.content.decode()
    assert detail.status_code == 200
    assert detail.json()["code"] == str(mine.object_of(resource).code)


@pytest.mark.parametrize("scope", [READ, WRITE])
@pytest.mark.parametrize("resource", list(CLOSED_LIST_STATUS))
def test_requests_imports_and_duplicates_stay_closed_to_the_read_and_write_scopes(mine, resource, scope):
    _client, http = keyed(mine, scope)
    register = mine.register_of(resource)

    listed = http.get(list_url(register, resource))
    detail = http.get(detail_url(register, resource, mine.object_of(resource)))

    assert listed.status_code == CLOSED_LIST_STATUS[resource]
    if listed.status_code == 200:
        assert listed.json()["results"] == []
    assert detail.status_code == CLOSED_DETAIL_STATUS[resource]
    assert str(mine.object_of(resource).code) not in listed.content.decode() + detail.content.decode()


@pytest.mark.parametrize("resource", list(CLOSED_LIST_STATUS))
def test_the_keepers_scope_reads_its_registers_requests_imports_and_duplicates_and_no_others(mine, theirs, resource):
    client, http = keyed(mine, KEEPER)

    listed = http.get(list_url(mine.customers, resource))
    detail = http.get(detail_url(mine.customers, resource, mine.object_of(resource)))

    assert listed.status_code == 200, listed.content
    assert [row["code"] for row in listed.json()["results"]] == [str(mine.object_of(resource).code)]
    assert detail.status_code == 200, detail.content
    assert detail.json()["code"] == str(mine.object_of(resource).code)
    assert str(theirs.object_of(resource).code) not in listed.content.decode() + detail.content.decode()
    problem(http.get(list_url(theirs.customers, resource)), 404)
    problem(http.get(detail_url(theirs.customers, resource, theirs.object_of(resource))), 404)
    problem(http.get(detail_url(mine.customers, resource, theirs.object_of(resource))), 404)
    read = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS,
        actor=client.user,
        object_pk=str(mine.object_of(resource).pk),
        content_type__model=mine.object_of(resource)._meta.model_name,
    )
    assert read.count() == 2


def test_the_keepers_scope_reads_and_never_handles_merges_or_imports(mine):
    """Reading the keepers' records is the whole of the scope: the services of handling, merging and importing,
    which check their rights themselves, refuse the client's machine user."""
    from django.core.exceptions import PermissionDenied

    from crm.selectors import user_may_import
    from duplicates import services as duplicate_services
    from privacy.requests import selectors as request_selectors

    client, _http = keyed(mine, KEEPER)
    user = client.user
    with pytest.raises(PermissionDenied):
        duplicate_services.candidate_dismiss(actor=user, candidate=mine.candidate)
    with pytest.raises(PermissionDenied):
        request_selectors.request_get_for_user_rw(user=user, code=mine.request.code)
    assert not user_may_import(user=user, register=mine.customers)
    assert mine.customers.pk not in request_selectors.request_register_ids(user=user)


@pytest.mark.parametrize("resource", ALL)
def test_another_registers_list_and_rows_are_404(mine, theirs, resource):
    _client, http = keyed(mine, WRITE)
    register = theirs.register_of(resource)
    problem(http.get(list_url(register, resource)), 404)
    problem(http.get(detail_url(register, resource, theirs.object_of(resource))), 404)


@pytest.mark.parametrize("resource", ALL)
def test_another_registers_code_under_our_slug_is_404(mine, theirs, resource):
    client, http = keyed(mine, WRITE)
    # With every right a person could hold here, so that only the register scoping can refuse.
    give_human_role(client, mine.customers, Role.OWNER)
    give_human_role(client, mine.customers, Role.HANDLER)
    give_human_role(client, mine.contact_centre, Role.OWNER)
    response = http.get(detail_url(mine.register_of(resource), resource, theirs.object_of(resource)))
    problem(response, 404)
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(theirs.object_of(resource).pk))


def test_a_register_of_the_wrong_kind_shows_nothing(mine):
    _client, http = keyed(mine, WRITE)
    # Invoices belong to customer registers: a contact-centre register has none.
    invoices = http.get(list_url(mine.contact_centre, "invoices"))
    assert invoices.status_code == 200
    assert invoices.json()["results"] == []
    problem(http.get(detail_url(mine.contact_centre, "invoices", mine.invoice)), 404)
    # The archive is a contact-centre register's: a customer register has none.
    problem(http.get(list_url(mine.customers, "messages")), 404)
    problem(http.get(detail_url(mine.customers, "messages", mine.message)), 404)


@pytest.mark.parametrize("authorization", [None, "Api-Key nonsense", "Bearer x"])
@pytest.mark.parametrize("resource", ALL)
def test_without_a_valid_key_every_endpoint_is_401(mine, resource, authorization):
    keyed(mine, WRITE)
    http = KeyClient(None) if authorization is None else KeyClient(None, HTTP_AUTHORIZATION=authorization)
    register = mine.register_of(resource)
    problem(http.get(list_url(register, resource)), 401)
    problem(http.get(detail_url(register, resource, mine.object_of(resource))), 401)
    problem(http.post(list_url(register, resource), {}), 401)


@pytest.mark.parametrize("scope", [READ, WRITE, KEEPER])
@pytest.mark.parametrize("resource", ALL)
def test_no_other_write_exists_on_these_resources(mine, resource, scope):
    _client, http = keyed(mine, scope)
    register = mine.register_of(resource)
    detail = detail_url(register, resource, mine.object_of(resource))
    # An invoice's state is the one change offered (test_invoice_status.py).
    for method in ("put", "delete") if resource == "invoices" else ("put", "patch", "delete"):
        response = getattr(http, method)(detail, {"status": "paid"}, HTTP_IF_MATCH="*")
        problem(response, 405)
    if resource != "data-subject-requests":
        problem(http.post(list_url(register, resource), {"status": "paid"}), 405)
    mine.invoice.refresh_from_db()
    assert mine.invoice.status == "open"


def test_filing_a_request_without_the_write_scope_is_403(mine, mailoutbox):
    _client, http = keyed(mine, READ)
    before = type(mine.request).objects.count()
    body = problem(
        http.post(
            list_url(mine.customers, "data-subject-requests"),
            {"kind": "access", "requester_name": "Anna", "requester_email": "anna@example.fi", "language": "fi"},
        ),
        403,
    )
    assert body["detail"]
    assert type(mine.request).objects.count() == before


def test_filing_a_request_in_another_register_is_404(mine, theirs):
    _client, http = keyed(mine, WRITE)
    before = type(mine.request).objects.count()
    problem(http.post(list_url(theirs.customers, "data-subject-requests"), {"kind": "access"}), 404)
    assert type(mine.request).objects.count() == before


@pytest.mark.parametrize("resource", list(CLOSED_LIST_STATUS))
def test_where_a_person_holds_the_right_the_same_endpoints_answer(mine, theirs, resource):
    """Shows the closed endpoints are closed by the rights alone: the selectors open them to a handler's role."""
    client, http = keyed(mine, WRITE)
    give_human_role(client, mine.customers, Role.HANDLER)
    listed = http.get(list_url(mine.customers, resource))
    detail = http.get(detail_url(mine.customers, resource, mine.object_of(resource)))
    assert listed.status_code == 200, listed.content
    assert [row["code"] for row in listed.json()["results"]] == [str(mine.object_of(resource).code)]
    assert detail.status_code == 200
    assert str(theirs.object_of(resource).code) not in listed.content.decode()


def test_a_client_cannot_be_given_a_persons_role(mine):
    """Why requests, imports and duplicates stay closed: the one service that grants roles refuses a machine."""
    from django.core.exceptions import ValidationError

    from ...conftest import grant

    client, _http = keyed(mine, WRITE)
    with pytest.raises(ValidationError):
        grant(client.user, mine.customers, Role.HANDLER)


@pytest.mark.parametrize("resource", list(CLOSED_LIST_STATUS))
def test_with_rights_in_both_registers_the_other_ones_row_is_still_404_under_our_slug(mine, theirs, resource):
    """The URL's register bounds the answer even where the selector alone would find the row."""
    client, http = keyed(mine, WRITE)
    give_human_role(client, mine.customers, Role.HANDLER)
    give_human_role(client, theirs.customers, Role.HANDLER)
    assert http.get(detail_url(theirs.customers, resource, theirs.object_of(resource))).status_code == 200
    problem(http.get(detail_url(mine.customers, resource, theirs.object_of(resource))), 404)
    listed = http.get(list_url(mine.customers, resource))
    assert [row["code"] for row in listed.json()["results"]] == [str(mine.object_of(resource).code)]


@pytest.mark.parametrize("resource", list(CLOSED_LIST_STATUS))
def test_where_rights_exist_each_row_read_is_logged_with_the_urls_register(mine, resource):
    client, http = keyed(mine, WRITE)
    give_human_role(client, mine.customers, Role.HANDLER)
    obj = mine.object_of(resource)
    http.get(list_url(mine.customers, resource))
    http.get(detail_url(mine.customers, resource, obj))
    entries = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS,
        actor=client.user,
        object_pk=str(obj.pk),
        content_type__model=obj._meta.model_name,
    )
    assert entries.count() == 2
    assert {entry.additional_data["register"] for entry in entries} == {mine.customers.pk}
    assert {entry.additional_data["api_client"] for entry in entries} == {client.name}
