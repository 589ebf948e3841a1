import uuid

import pytest
from auditlog.models import LogEntry
from django.core import signing
from django.test import RequestFactory
from django.urls import reverse

from registers.access_log import REDACTION_MARK, log_access, redact_path
from registers.scoping import register_of, register_path

from ..factories import (
    ContactCentreMessageFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
)

pytestmark = pytest.mark.django_db


def request_as(user, path="/crm/x/", address="10.1.2.3"):
    request = RequestFactory().get(path, REMOTE_ADDR=address)
    request.user = user
    return request


def test_it_writes_an_access_entry_with_actor_address_and_register(register_a, staff_a):
    customer = CustomerFactory(register=register_a)
    entry = log_access(request_as(staff_a), customer)
    entry = LogEntry.objects.get(pk=entry.pk)
    assert entry.action == LogEntry.Action.ACCESS
    assert entry.actor == staff_a
    assert entry.remote_addr == "10.1.2.3"
    assert entry.object_pk == str(customer.pk)
    assert entry.additional_data["register"] == register_a.pk
    assert entry.additional_data["path"] == "/crm/x/"


def test_it_finds_the_register_through_the_customer(register_a, staff_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a))
    entry = log_access(request_as(staff_a), person)
    assert entry.additional_data["register"] == register_a.pk
    assert register_path(type(InteractionFactory.build())) == ("customer", "register")


def test_a_message_uses_its_own_register_key():
    message = ContactCentreMessageFactory()
    assert register_path(type(message)) == ("register",)
    assert register_of(message) == message.register


def test_an_export_logs_the_filter_and_row_count_not_the_rows(register_a, staff_a):
    entry = log_access(
        request_as(staff_a),
        register_a,
        {"export": "customers", "filter": {"q": "Oy", "register": register_a}, "rows": 12},
    )
    assert entry.additional_data == {
        "register": register_a.pk,
        "path": "/crm/x/",
        "export": "customers",
        "filter": {"q": "Oy", "register": str(register_a.pk)},
        "rows": 12,
    }


def test_an_explicit_register_overrides_the_lookup(register_a, register_b, staff_a):
    entry = log_access(request_as(staff_a), register_a, {"register": register_b})
    assert entry.additional_data["register"] == register_b.pk


def test_a_secret_token_in_the_path_is_stored_redacted(register_a, staff_a):
    token = signing.Signer(salt="privacy.package.download").sign(str(uuid.uuid4()))
    path = reverse("privacy:download-file", kwargs={"token": token, "fmt": "pdf"})
    entry = log_access(request_as(staff_a, path=path), CustomerFactory(register=register_a))
    entry = LogEntry.objects.get(pk=entry.pk)
    assert entry.additional_data["path"] == f"/privacy/request/answer/{REDACTION_MARK}/pdf/"
    assert token.rsplit(":", 1)[1] not in str(entry.additional_data)


def test_redact_path_knows_the_token_routes_and_signed_values():
    # A token route redacts whatever the token is, signed-looking or not.
    assert redact_path("/privacy/request/status/short/") == f"/privacy/request/status/{REDACTION_MARK}/"
    assert redact_path("/privacy/request/consent/abc/") == f"/privacy/request/consent/{REDACTION_MARK}/"
    # A signed value is redacted even where the path no longer resolves.
    signed = signing.Signer(salt="x").sign("value")
    assert redact_path(f"/gone/{signed}/") == f"/gone/{REDACTION_MARK}/"
    code = uuid.uuid4()
    assert redact_path(f"/crm/register-a/customers/{code}/") == f"/crm/register-a/customers/{code}/"
