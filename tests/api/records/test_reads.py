"""What a client reads: masked archive texts, an access entry per row, change-ordered pages, refused bad input."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from crm.models import Invoice
from registers.validators import IDENTITY_CODE_MASK, contains_identity_code

from ...factories import ContactCentreMessageFactory, CustomerFactory, InvoiceFactory, OrderingClientFactory
from ..factories import READ, KeyClient, api_client
from .world import IDENTITY_CODE, archived, side

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registers"


@pytest.fixture
def mine():
    return side("mine")


@pytest.fixture
def client_and_http(mine):
    client, key = api_client({mine.customers: READ, mine.contact_centre: READ})
    return client, KeyClient(key)


def access_entries(client, obj):
    model = obj._meta.model_name
    return LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=client.user, object_pk=str(obj.pk), content_type__model=model
    )


# The archive never shows an identity code -------------------------------------------------------------------------


def test_a_client_reads_archived_messages_with_identity_codes_masked(mine, client_and_http):
    _client, http = client_and_http
    reply = archived(
        mine.contact_centre,
        f"Vastaus: tunnus {IDENTITY_CODE.replace('-', '')} on kirjattu.",
        subject=f"Re: {IDENTITY_CODE}",
    )
    listed = http.get(f"{BASE}/{mine.contact_centre.slug}/messages/")
    details = [http.get(f"{BASE}/{mine.contact_centre.slug}/messages/{m.code}/") for m in (mine.message, reply)]

    assert listed.status_code == 200
    assert {row["code"] for row in listed.json()["results"]} == {str(mine.message.code), str(reply.code)}
    for response in (listed, *details):
        assert response.status_code == 200
        text = response.content.decode()
        assert IDENTITY_CODE not in text
        assert IDENTITY_CODE.replace("-", "") not in text
        assert not contains_identity_code(text)
    assert IDENTITY_CODE_MASK in details[0].json()["body"]
    assert details[1].json()["identity_codes_masked"] >= 2
    assert "raw" not in details[0].json()


def test_a_search_for_an_identity_code_is_refused_not_run(mine, client_and_http):
    _client, http = client_and_http
    response = http.get(f"{BASE}/{mine.contact_centre.slug}/messages/", {"q": IDENTITY_CODE})
    assert response.status_code == 400
    assert "q" in response.json()["errors"]
    assert IDENTITY_CODE not in str(LogEntry.objects.values_list("additional_data", flat=True))


def test_a_department_manager_scoping_is_the_web_uis(mine, client_and_http):
    """The archive's filters narrow and never widen: another ordering client's code matches nothing."""
    _client, http = client_and_http
    own = mine.message.ordering_client
    other_department = OrderingClientFactory(register=mine.contact_centre)
    ContactCentreMessageFactory(ordering_client=other_department)
    response = http.get(f"{BASE}/{mine.contact_centre.slug}/messages/", {"ordering_client": str(own.code)})
    assert [row["code"] for row in response.json()["results"]] == [str(mine.message.code)]
    assert response.json()["results"][0]["ordering_client"] == {"code": str(own.code), "department": own.department}


# An access entry for every row read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["invoices", "messages"])
def test_every_row_a_client_reads_writes_an_access_entry(mine, client_and_http, resource):
    client, http = client_and_http
    register = mine.register_of(resource)
    obj = mine.object_of(resource)
    assert not access_entries(client, obj).exists()

    http.get(f"{BASE}/{register.slug}/{resource}/")
    http.get(f"{BASE}/{register.slug}/{resource}/{obj.code}/")

    entries = list(access_entries(client, obj).order_by("pk"))
    assert len(entries) == 2
    for entry in entries:
        assert entry.additional_data["api_client"] == client.name
        assert entry.additional_data["register"] == register.pk
    assert entries[0].additional_data["path"] == f"{BASE}/{register.slug}/{resource}/"


def test_a_list_logs_only_the_rows_of_its_page(mine, client_and_http):
    client, http = client_and_http
    customer = CustomerFactory(register=mine.customers)
    extra = [InvoiceFactory(customer=customer) for _ in range(3)]
    page = http.get(f"{BASE}/{mine.customers.slug}/invoices/", {"page_size": 2}).json()
    shown = {row["code"] for row in page["results"]}
    assert len(shown) == 2
    logged = {
        str(code)
        for code in Invoice.objects.filter(
            pk__in=[
                int(pk)
                for pk in LogEntry.objects.filter(
                    action=LogEntry.Action.ACCESS, actor=client.user, content_type__model="invoice"
                ).values_list("object_pk", flat=True)
            ]
        ).values_list("code", flat=True)
    }
    assert logged == shown
    assert page["next"]
    assert len({mine.invoice.code, *(i.code for i in extra)}) == 4


# Pages in the order of change, and modified_since ------------------------------------------------------------------


def test_invoices_page_in_the_order_of_change_and_filter_by_modified_since(mine, client_and_http):
    _client, http = client_and_http
    url = f"{BASE}/{mine.customers.slug}/invoices/"
    old = timezone.now() - datetime.timedelta(days=3)
    Invoice.objects.filter(pk=mine.invoice.pk).update(updated_at=old)
    later = InvoiceFactory(customer=mine.invoice.customer)

    everything = [row["code"] for row in http.get(url).json()["results"]]
    since = (old + datetime.timedelta(days=1)).isoformat()
    recent = [row["code"] for row in http.get(url, {"modified_since": since}).json()["results"]]

    assert everything == [str(mine.invoice.code), str(later.code)]
    assert recent == [str(later.code)]


def test_a_cursor_walks_every_row_once(mine, client_and_http):
    _client, http = client_and_http
    for number in range(4):
        archived(mine.contact_centre, f"Viesti {number}")
    url, seen = f"{BASE}/{mine.contact_centre.slug}/messages/?page_size=2", []
    while url:
        page = http.get(url).json()
        seen += [row["code"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("resource", ["invoices", "messages", "data-subject-requests", "imports", "duplicates"])
@pytest.mark.parametrize(
    "query",
    [
        {"modified_since": "yesterday"},
        {"modified_since": "2026-13-45T99:00:00+02:00"},
        {"modified_since": "2026-01-01T12:00:00"},
        {"modified_since": "\x00"},
        {"modified_since": "0001-01-01T00:00:00+14:00"},
        {"modified_since": "9999-12-31T23:59:59-14:00"},
        {"modified_since": "2026-01-01T00:00:00+99:00"},
        {"cursor": "not-a-cursor"},
        {"page_size": "-1"},
        {"page_size": "x"},
        {"direction": "sideways"},
        {"sent_from": "31.02.2026"},
        {"sent_to": "99999-01-01"},
        {"ordering_client": "not-a-uuid"},
        {"ordering_client": "00000000-0000-0000-0000-000000000000"},
        {"q": "x" * 500},
    ],
)
def test_bad_query_input_is_a_problem_never_a_500(mine, client_and_http, resource, query):
    _client, http = client_and_http
    register = mine.register_of(resource)
    response = http.get(f"{BASE}/{register.slug}/{resource}/", query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
    if "modified_since" in query and resource in ("invoices", "messages"):
        assert response.status_code == 400
        assert "modified_since" in response.json()["errors"]


@pytest.mark.parametrize("code", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00"])
@pytest.mark.parametrize("resource", ["invoices", "messages", "data-subject-requests", "imports", "duplicates"])
def test_a_bad_or_unknown_code_is_404(mine, client_and_http, resource, code):
    _client, http = client_and_http
    response = http.get(f"{BASE}/{mine.register_of(resource).slug}/{resource}/{code}/")
    assert response.status_code in (403, 404)
    assert response.status_code != 403 or resource in ("data-subject-requests", "duplicates")


def test_an_invoice_shows_its_customer_status_and_amount(mine, client_and_http):
    _client, http = client_and_http
    body = http.get(f"{BASE}/{mine.customers.slug}/invoices/{mine.invoice.code}/").json()
    assert body == {
        "code": str(mine.invoice.code),
        "customer": str(mine.invoice.customer.code),
        "number": mine.invoice.number,
        "amount": "120.00",
        "due_date": mine.invoice.due_date.isoformat(),
        "status": "open",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
