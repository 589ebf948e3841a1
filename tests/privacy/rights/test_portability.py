"""Portability (GDPR 20, recital 68; PRIVACY.md "Portability"): the JSON of what the person provided where the
legal basis is consent or contract, and an explained refusal for registers kept for a public task."""

import json

import pytest
from django.core.exceptions import ValidationError

from privacy.requests.models import DataSubjectRequest
from privacy.rights import refusals
from privacy.rights import services as rights
from privacy.rights.models import RefusalGround
from registers.models import Role

from ...conftest import grant
from ...factories import InteractionFactory, InvoiceFactory, PersonCustomerFactory, RegisterFactory
from .. import rights_steps, steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind


def portability(registers, handler, records, **extra):
    return rights_steps.in_progress(registers, handler, kind=Kind.PORTABILITY, records=records, language="en", **extra)


@pytest.mark.parametrize("basis", ["a", "b"])
def test_a_consent_or_contract_register_gives_the_provided_data_as_json(register_a, handler_a, owner_a, basis):
    register_a.legal_bases = [basis]
    register_a.save()
    customer = PersonCustomerFactory(
        register=register_a, first_name="Pirjo", last_name="Siirtäjä", email="pirjo@example.fi", city="Kuopio"
    )
    InteractionFactory(customer=customer, subject="Henkilökunnan muistiinpano")
    InvoiceFactory(customer=customer, number="L-991")
    request = portability([register_a], handler_a, [customer])

    package = rights.portability_build(request=request, actor=handler_a)
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)

    assert request.state == State.RESPONDED
    document = json.loads(package.json.read())
    [record] = document["registers"][0]["records"]
    assert record["data"] == {
        "first_name": "Pirjo",
        "last_name": "Siirtäjä",
        "email": "pirjo@example.fi",
        "city": "Kuopio",
        "date_of_birth": "1980-05-17",
        "language": "fi",
    }
    # What staff wrote or the controller produced is not "provided by" the person.
    text = json.dumps(document, ensure_ascii=False)
    assert "muistiinpano" not in text
    assert "L-991" not in text
    package.refresh_from_db()
    assert package.released_at is not None
    mails = steps.send_letters()
    assert any("/privacy/request/answer/" in m.body for m in mails)


def test_a_public_task_register_gets_an_explained_refusal(register_a, handler_a, owner_a):
    assert register_a.legal_bases == ["e"]
    customer = PersonCustomerFactory(register=register_a)
    request = portability([register_a], handler_a, [customer])
    # Nothing to build: the review needs no package when no register qualifies.
    rights_steps.prepared(request, handler_a)
    with pytest.raises(ValidationError):
        refusals.rights_request_decide(request=request, actor=owner_a, text="")

    request = refusals.rights_request_decide(
        request=request, actor=owner_a, text="The register serves the city's business services, a public task."
    )

    assert request.state == State.REFUSED
    assert request.refusals.get().grounds == [RefusalGround.NOT_CONSENT_OR_CONTRACT]
    letter = request.letters.get().text
    assert "recital 68" in letter
    assert "right of access" in letter
    assert not request.packages.exists()


def test_a_request_over_both_kinds_of_register_is_partly_refused_and_exports_only_the_eligible_one(
    register_a, handler_a, owner_a
):
    contract = RegisterFactory(organisation=register_a.organisation, legal_bases=["b", "c"], name_en="Contracts")
    grant(handler_a, contract, Role.HANDLER)
    grant(owner_a, contract, Role.OWNER)
    public = PersonCustomerFactory(register=register_a, last_name="Julkinen")
    mine = PersonCustomerFactory(register=contract, last_name="Sopimus")
    request = portability([register_a, contract], handler_a, [public, mine])
    with pytest.raises(ValidationError, match="portable data"):
        rights_steps.prepared(request, handler_a)

    package = rights.portability_build(request=request, actor=handler_a)
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a, text="One register is a public task.")

    assert request.state == State.PARTLY_REFUSED
    document = json.loads(package.json.read())
    assert [r["register"] for r in document["registers"]] == [contract.slug]
    assert "Julkinen" not in json.dumps(document)
    package.refresh_from_db()
    assert package.released_at is not None
