"""An invoice's state over the API: the billing system marks it paid or in collection, with If-Match, audited."""

import pytest
from auditlog.models import LogEntry
from django.utils import translation

from crm.models import Invoice

from ..factories import READ, WRITE, KeyClient, api_client
from .world import side

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine():
    return side("mine")


def url(register, invoice):
    return f"/api/v1/registers/{register.slug}/invoices/{invoice.code}/"


def keyed(register, scope):
    client, key = api_client({register: scope})
    return client, KeyClient(key)


def test_a_write_scope_marks_an_invoice_paid_with_the_etag_it_read(mine):
    client, http = keyed(mine.customers, WRITE)
    read = http.get(url(mine.customers, mine.invoice))
    etag = read["ETag"]

    changed = http.patch(url(mine.customers, mine.invoice), {"status": "paid"}, HTTP_IF_MATCH=etag)

    assert changed.status_code == 200, changed.content
    assert changed.json()["status"] == "paid"
    assert changed["ETag"] != etag
    mine.invoice.refresh_from_db()
    assert mine.invoice.status == Invoice.Status.PAID
    entry = LogEntry.objects.get_for_object(mine.invoice).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == client.user
    assert entry.changes_dict["status"] == ["open", "paid"]


def test_a_stale_etag_is_412_and_a_missing_one_428_and_nothing_changes(mine):
    _client, http = keyed(mine.customers, WRITE)
    etag = http.get(url(mine.customers, mine.invoice))["ETag"]
    Invoice.objects.filter(pk=mine.invoice.pk).update(status=Invoice.Status.IN_COLLECTION)
    # A change by someone else since the read (save() moves updated_at, as any edit does).
    Invoice.objects.get(pk=mine.invoice.pk).save()

    stale = http.patch(url(mine.customers, mine.invoice), {"status": "paid"}, HTTP_IF_MATCH=etag)
    missing = http.patch(url(mine.customers, mine.invoice), {"status": "paid"})

    assert (stale.status_code, missing.status_code) == (412, 428)
    assert stale["Content-Type"] == "application/problem+json"
    assert Invoice.objects.get(pk=mine.invoice.pk).status == Invoice.Status.IN_COLLECTION


def test_a_read_scope_may_not_change_an_invoice(mine):
    _client, http = keyed(mine.customers, READ)
    etag = http.get(url(mine.customers, mine.invoice))["ETag"]
    response = http.patch(url(mine.customers, mine.invoice), {"status": "paid"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 403
    assert Invoice.objects.get(pk=mine.invoice.pk).status == Invoice.Status.OPEN


def test_another_registers_invoice_is_404_also_under_this_registers_slug(mine):
    theirs = side("theirs")
    _client, http = keyed(mine.customers, WRITE)
    for register in (mine.customers, theirs.customers):
        response = http.patch(url(register, theirs.invoice), {"status": "paid"}, HTTP_IF_MATCH="*")
        assert response.status_code == 404
    assert Invoice.objects.get(pk=theirs.invoice.pk).status == Invoice.Status.OPEN


@pytest.mark.parametrize("body", [{"status": "cancelled"}, {"status": None}, {}, {"status": ["paid"]}, "paid"])
def test_a_state_that_does_not_exist_is_400_naming_the_field(mine, body):
    _client, http = keyed(mine.customers, WRITE)
    with translation.override("en"):
        response = http.patch(url(mine.customers, mine.invoice), body, HTTP_IF_MATCH="*")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert Invoice.objects.get(pk=mine.invoice.pk).status == Invoice.Status.OPEN
