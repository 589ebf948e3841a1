import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition
from privacy.retention.holds import ERROR_ALREADY_RELEASED, legal_hold_place, legal_hold_release
from privacy.retention.models import HoldType, LegalHold, PurgeKind
from privacy.retention.policies import retention_due_customers, retention_preview

from ...factories import (
    CallRecordingFactory,
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    CustomerFactory,
    InvoiceFactory,
    OrderingClientFactory,
    RegisterFactory,
)
from ..retention_helpers import idle_customer, long_ago, open_request_for

pytestmark = pytest.mark.django_db


def preview(register) -> dict:
    return {row.kind: row for row in retention_preview(register=register)}


def test_only_customers_idle_past_the_period_are_due(register_a):
    register_a.retention_months = 36
    register_a.save()
    idle_customer(register_a, months=37)
    CustomerFactory(register=register_a, last_activity_at=long_ago(35))
    CustomerFactory(register=register_a)
    row = preview(register_a)[PurgeKind.CUSTOMER]
    assert (row.due, row.purgeable, row.held) == (1, 1, {})


def test_a_register_without_retention_rule_has_nothing_due(register_a):
    register_a.retention_months = None
    register_a.save()
    idle_customer(register_a, months=200)
    assert retention_preview(register=register_a) == []


def test_an_open_invoice_or_debt_in_collection_holds_the_customer(register_a):
    open_invoice = idle_customer(register_a)
    InvoiceFactory(customer=open_invoice, status="open")
    in_collection = idle_customer(register_a)
    InvoiceFactory(customer=in_collection, status="in_collection")
    idle_customer(register_a)
    row = preview(register_a)[PurgeKind.CUSTOMER]
    assert (row.due, row.purgeable, row.held) == (3, 1, {HoldType.OPEN_INVOICE: 2})


def test_an_open_data_subject_request_holds_the_customer_until_it_closes(register_a, owner_a, handler_a):
    customer = idle_customer(register_a)
    request = open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=customer)
    assert preview(register_a)[PurgeKind.CUSTOMER].held == {HoldType.OPEN_REQUEST: 1}
    request_transition(request=request, to=DataSubjectRequest.State.WITHDRAWN, actor=owner_a, reason="test")
    row = preview(register_a)[PurgeKind.CUSTOMER]
    assert (row.purgeable, row.held) == (1, {})


def test_a_customer_hold_keeps_one_customer_until_its_end_date(register_a, owner_a):
    held = idle_customer(register_a)
    idle_customer(register_a)
    hold = legal_hold_place(
        actor=owner_a, register=register_a, customer=held, reason="Claim 12/2026", ends_on=timezone.localdate()
    )
    row = preview(register_a)[PurgeKind.CUSTOMER]
    assert (row.purgeable, row.held) == (1, {HoldType.LEGAL_HOLD: 1})
    flagged = {c.pk: c.hold_legal_hold for c in retention_due_customers(register=register_a)}
    assert flagged[held.pk] is True
    # A hold ends on its end date: the day after, it holds nothing.
    LegalHold.objects.filter(pk=hold.pk).update(
        starts_on=timezone.localdate() - datetime.timedelta(days=10),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert preview(register_a)[PurgeKind.CUSTOMER].purgeable == 2


def test_a_register_hold_keeps_everything_in_the_register(register_a, owner_a):
    idle_customer(register_a)
    idle_customer(register_a)
    legal_hold_place(
        actor=owner_a,
        register=register_a,
        reason="Audit by the state auditor",
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    row = preview(register_a)[PurgeKind.CUSTOMER]
    assert (row.due, row.purgeable, row.held) == (2, 0, {HoldType.LEGAL_HOLD: 2})


def test_a_released_hold_no_longer_holds(register_a, owner_a):
    customer = idle_customer(register_a)
    hold = legal_hold_place(
        actor=owner_a,
        register=register_a,
        customer=customer,
        reason="Claim",
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    legal_hold_release(actor=owner_a, hold=hold, reason="Claim settled")
    assert preview(register_a)[PurgeKind.CUSTOMER].purgeable == 1
    with pytest.raises(ValidationError) as error:
        legal_hold_release(actor=owner_a, hold=hold, reason="again")
    assert error.value.messages == [str(ERROR_ALREADY_RELEASED)]


def test_a_hold_needs_a_reason_and_a_future_end(register_a, owner_a):
    customer = idle_customer(register_a)
    with pytest.raises(ValidationError):
        legal_hold_place(
            actor=owner_a, register=register_a, customer=customer, reason=" ", ends_on=timezone.localdate()
        )
    with pytest.raises(ValidationError):
        legal_hold_place(
            actor=owner_a,
            register=register_a,
            customer=customer,
            reason="Claim",
            ends_on=timezone.localdate() - datetime.timedelta(days=1),
        )


def test_a_hold_cannot_name_another_registers_customer(register_a, register_b, owner_a):
    other = idle_customer(register_b)
    with pytest.raises(ValidationError):
        legal_hold_place(
            actor=owner_a, register=register_a, customer=other, reason="Claim", ends_on=timezone.localdate()
        )


def test_call_recordings_are_due_after_six_months(settings):
    settings.CALL_RECORDING_RETENTION_MONTHS = 6
    client = OrderingClientFactory()
    CallRecordingFactory(ordering_client=client, recorded_at=long_ago(7))
    CallRecordingFactory(ordering_client=client, recorded_at=long_ago(5))
    row = preview(client.register)[PurgeKind.CALL_RECORDING]
    assert (row.due, row.purgeable) == (1, 1)


def test_messages_are_due_after_the_client_relationship_and_grace_period(settings):
    settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS = 30
    register = ContactCentreRegisterFactory()
    today = timezone.localdate()
    ended_long_ago = OrderingClientFactory(register=register, active_until=today - datetime.timedelta(days=31))
    ended_recently = OrderingClientFactory(register=register, active_until=today - datetime.timedelta(days=29))
    still_client = OrderingClientFactory(register=register, active_until=None)
    for client in (ended_long_ago, ended_recently, still_client):
        ContactCentreMessageFactory(ordering_client=client, sent_at=long_ago(60))
    row = preview(register)[PurgeKind.CONTACT_CENTRE_MESSAGE]
    assert (row.due, row.purgeable) == (1, 1)


def test_a_contact_centre_register_has_no_customer_rule():
    register = ContactCentreRegisterFactory(retention_months=12)
    assert PurgeKind.CUSTOMER not in preview(register)


def test_the_preview_counts_each_hold_type_once_per_record(register_a, owner_a, handler_a):
    customer = idle_customer(register_a)
    InvoiceFactory(customer=customer, status="open")
    open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=customer)
    row = preview(register_a)[PurgeKind.CUSTOMER]
    assert (row.due, row.purgeable) == (1, 0)
    assert row.held == {HoldType.OPEN_INVOICE: 1, HoldType.OPEN_REQUEST: 1}


def test_retention_is_per_register(register_a):
    short = RegisterFactory(retention_months=12)
    idle_customer(short, months=13)
    idle_customer(register_a, months=13)
    assert preview(short)[PurgeKind.CUSTOMER].due == 1
    assert preview(register_a)[PurgeKind.CUSTOMER].due == 0
