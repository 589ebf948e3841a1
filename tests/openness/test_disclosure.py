"""Personal data out of a register on a document request (Act 621/1999 16(3) §): the purpose check against every
seed register's description, and an export that leaves out objecting and restricted customers and is written to
the disclosure ledger."""

import csv
import io

import pytest
from auditlog.models import LogEntry

from openness import services
from openness.disclosure import ERROR_MARKETING, purpose_check
from openness.models import DocumentRequest, DocumentRequestEvent
from privacy.rights.models import Disclosure
from registers import demo_registers
from registers.models import Organisation, Register, Role

from ..conftest import grant
from ..factories import CustomerFactory, PersonCustomerFactory, RegisterFactory, UserFactory

PURPOSE = {"requester_name": "Tutkimuslaitos", "purpose": "Yritystutkimus", "recipient_legal_basis": "GDPR 6(1)(e)"}


def seed_registers() -> list[Register]:
    """The five seed registers as the demo loads them: their own descriptions, nothing changed."""
    organisations = {}
    for data in demo_registers.ORGANISATIONS:
        values = {k: v for k, v in data.items() if k != "key"}
        organisations[data["key"]] = Organisation.objects.create(**values)
    registers = {}
    for data in demo_registers.REGISTERS:
        values = {k: v for k, v in data.items() if k not in {"slug", "organisation", "parent"}}
        registers[data["slug"]] = Register.objects.create(
            slug=data["slug"],
            organisation=organisations[data["organisation"]],
            parent=registers[data["parent"]] if data["parent"] else None,
            **values,
        )
    return [r for r in registers.values() if r.kind == Register.Kind.CUSTOMER and r.parent is None]


def request_for(register, **data):
    return services.document_request_submit(
        organisation=register.organisation,
        registers=[register],
        data={"request_text": "Asiakkaiden yhteystiedot", **PURPOSE, **data},
    )


@pytest.mark.django_db
def test_every_seed_register_refuses_marketing_use_by_its_description():
    registers = seed_registers()
    assert len(registers) == 4  # the contact-centre register holds no customers
    for register in registers:
        assert purpose_check(request=request_for(register, marketing_use=True), register=register) == [
            str(ERROR_MARKETING)
        ], register.slug
        assert purpose_check(request=request_for(register), register=register) == [], register.slug


@pytest.mark.django_db
def test_a_register_that_allows_it_lets_marketing_use_pass_and_the_description_says_which():
    register = RegisterFactory(marketing_disclosures=True)
    assert purpose_check(request=request_for(register, marketing_use=True), register=register) == []


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["recipient_legal_basis"])
def test_the_recipients_right_must_be_recorded(missing):
    register = RegisterFactory()
    request = request_for(register, **{missing: ""})
    assert len(purpose_check(request=request, register=register)) == 1


@pytest.fixture
def world(db, client):
    register = RegisterFactory(collected_fields=["address", "email"])
    handler = UserFactory()
    grant(handler, register, Role.HANDLER)
    client.force_login(handler)
    kept = PersonCustomerFactory(register=register, last_name="Annettava", email="annettava@example.fi")
    objecting = PersonCustomerFactory(register=register, last_name="Kieltäjä", marketing_objection=True)
    restricted = CustomerFactory(register=register, organisation_name="Rajoitettu Oy", processing_restricted=True)
    request = request_for(register)
    services.document_request_take_up(actor=handler, request=request)
    return register, handler, request, kept, objecting, restricted


def export(client, request, register, columns):
    return client.post(f"/openness/{request.code}/disclose/{register.slug}/", {"columns": columns})


def test_the_export_leaves_out_objecting_and_restricted_customers_and_fills_the_ledger(client, world):
    register, _handler, request, kept, _objecting, _restricted = world
    page = client.get(f"/openness/{request.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 customers who object to direct marketing or whose processing is restricted are left out" in page
    response = export(client, request, register, ["first_name", "last_name", "email"])
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2
    assert rows[1] == [kept.first_name, "Annettava", "annettava@example.fi"]
    text = str(rows)
    assert "Kieltäjä" not in text
    assert "Rajoitettu" not in text
    assert "street_address" not in text  # a column not chosen
    ledger = Disclosure.objects.get()
    assert ledger.customer == kept
    assert ledger.recipient_kind == Disclosure.RecipientKind.OPENNESS_ACT
    assert ledger.legal_basis.startswith("Act 621/1999 16(3) §")
    assert ledger.purpose == "Yritystutkimus"
    event = request.events.get(action=DocumentRequestEvent.Action.DISCLOSURE)
    assert event.payload["rows"] == 1
    assert LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, additional_data__export="openness_disclosure"
    ).exists()


def test_a_refused_purpose_check_exports_nothing(client, world):
    register, _handler, request, *_ = world
    DocumentRequest.objects.filter(pk=request.pk).update(marketing_use=True)
    response = export(client, request, register, ["last_name"])
    assert response.status_code == 302
    assert not Disclosure.objects.exists()


def test_nothing_is_given_once_the_request_is_answered(client, world):
    register, handler, request, *_ = world
    services.document_request_answer(actor=handler, request=request, outcome="granted", delivery="email")
    assert export(client, request, register, ["last_name"]).status_code == 302
    assert not Disclosure.objects.exists()


def test_another_registers_handler_cannot_export(client, world):
    register, _handler, request, *_ = world
    other = UserFactory()
    grant(other, RegisterFactory(organisation=register.organisation), Role.HANDLER)
    client.force_login(other)
    # The request names the register: a handler of the authority's other register does not see it.
    assert export(client, request, register, ["last_name"]).status_code == 404
    assert not Disclosure.objects.exists()
