"""DELETE: the profile's dry run, then the deletion. A legal ground that keeps any of the person's data refuses the
whole deletion with 403 and the errors in the exact shape the profile validates; otherwise the person's records in
every register go, with the audit trail redacted as on request, and other people's records stay."""

import datetime
import json
import uuid

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from crm.models import Customer, Interaction, Invoice
from privacy.requests.models import DataSubjectRequest
from privacy.retention.holds import legal_hold_place
from privacy.rights import erasure
from registers.models import Role

from ...conftest import grant
from ...factories import (
    InteractionFactory,
    InvoiceFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from ...privacy import rights_steps
from .conftest import bearer, url

pytestmark = pytest.mark.django_db

PROFILE = uuid.UUID("0b7c0c1e-7d6a-4f0e-a6c6-3c1f2b9d8e42")


@pytest.fixture
def person():
    first, second = RegisterFactory(), RegisterFactory()
    anna = PersonCustomerFactory(
        register=first, profile_id=PROFILE, first_name="Ulriikka", last_name="Poistettava", email="ulriikka@example.fi"
    )
    InteractionFactory(customer=anna, subject="Neuvonta")
    again = PersonCustomerFactory(register=second, profile_id=PROFILE, first_name="Ulriikka", last_name="Poistettava")
    bystanders = [
        PersonCustomerFactory(register=first, first_name="Bertta", last_name="Jää"),
        PersonCustomerFactory(register=second, first_name="Cecilia", last_name="Jää"),
    ]
    InteractionFactory(customer=bystanders[0], subject="Bertan asia")
    return {"customers": [anna, again], "bystanders": bystanders, "registers": (first, second)}


def _profile_validates(body) -> bool:
    """The profile's own check of a 403/500 body (profiles/connected_services.py): anything else is "unknown error"."""
    if not isinstance(body, dict) or set(body) != {"errors"} or not isinstance(body["errors"], list):
        return False
    for error in body["errors"]:
        if not isinstance(error, dict) or set(error) != {"code", "message"} or not isinstance(error["code"], str):
            return False
        message = error["message"]
        if not isinstance(message, dict) or not message:
            return False
        if not all(isinstance(text, str) and text for text in message.values()):
            return False
    return True


def _still_there(person) -> int:
    return Customer.objects.filter(pk__in=[c.pk for c in person["customers"]]).count()


def _hold_open_invoice(person):
    InvoiceFactory(customer=person["customers"][0], status=Invoice.Status.OPEN)


def _hold_debt(person):
    InvoiceFactory(customer=person["customers"][0], status=Invoice.Status.IN_COLLECTION)


def _hold_legal(person):
    customer = person["customers"][1]
    legal_hold_place(
        actor=UserFactory(is_superuser=True),
        register=customer.register,
        customer=customer,
        reason="Vahingonkorvausasia 12/2026",
        ends_on=timezone.localdate() + datetime.timedelta(days=90),
    )


def _hold_open_request(person):
    customer = person["customers"][0]
    handler = UserFactory()
    grant(handler, customer.register, Role.HANDLER)
    rights_steps.in_progress(
        [customer.register], handler, kind=DataSubjectRequest.Kind.RECTIFICATION, records=[customer]
    )


HOLDS = [
    pytest.param(_hold_open_invoice, "OPEN_INVOICE", id="open-invoice"),
    pytest.param(_hold_debt, "DEBT_IN_COLLECTION", id="debt-in-collection"),
    pytest.param(_hold_legal, "LEGAL_HOLD", id="legal-hold"),
    pytest.param(_hold_open_request, "OPEN_REQUEST", id="open-request"),
]


@pytest.mark.parametrize(("hold", "code"), HOLDS)
def test_a_dry_run_with_a_legal_ground_is_403_in_the_profiles_shape_and_changes_nothing(issuer, person, hold, code):
    hold(person)
    entries = LogEntry.objects.count()

    response = bearer(issuer.token(scopes=["gdprdelete"])).delete(url(PROFILE) + "?dry_run=true")

    assert response.status_code == 403
    body = response.json()
    assert _profile_validates(body)
    assert [error["code"] for error in body["errors"]] == [code]
    message = body["errors"][0]["message"]
    assert set(message) == {"fi", "sv", "en"}
    assert "erased" in message["en"]
    assert _still_there(person) == 2
    assert LogEntry.objects.count() == entries


@pytest.mark.parametrize(("hold", "code"), HOLDS)
def test_a_deletion_with_a_legal_ground_is_refused_whole(issuer, person, hold, code):
    hold(person)

    response = bearer(issuer.token()).delete(url(PROFILE))

    assert response.status_code == 403
    assert _profile_validates(response.json())
    assert [error["code"] for error in response.json()["errors"]] == [code]
    # All or nothing: the record in the other register, which nothing holds, stays too.
    assert _still_there(person) == 2
    assert Interaction.objects.filter(subject="Neuvonta").exists()


def test_two_grounds_give_two_errors(issuer, person):
    _hold_open_invoice(person)
    _hold_legal(person)

    response = bearer(issuer.token()).delete(url(PROFILE), {"dry_run": True}, content_type="application/json")

    assert response.status_code == 403
    assert sorted(error["code"] for error in response.json()["errors"]) == ["LEGAL_HOLD", "OPEN_INVOICE"]


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1"])
def test_dry_run_in_the_query_deletes_nothing(issuer, person, value):
    response = bearer(issuer.token()).delete(url(PROFILE) + f"?dry_run={value}")

    assert response.status_code == 204
    assert _still_there(person) == 2


@pytest.mark.parametrize("value", [True, 1, "true", "True", "TRUE", "1"])
def test_dry_run_in_the_body_deletes_nothing(issuer, person, value):
    response = bearer(issuer.token()).delete(
        url(PROFILE), json.dumps({"dry_run": value}), content_type="application/json"
    )

    assert response.status_code == 204
    assert _still_there(person) == 2


@pytest.mark.parametrize("value", ["false", "0", "no", ""])
def test_a_false_dry_run_deletes(issuer, person, value):
    response = bearer(issuer.token()).delete(url(PROFILE) + f"?dry_run={value}")

    assert response.status_code == 204
    assert _still_there(person) == 0


def test_the_profiles_sequence_erases_the_person_everywhere_and_redacts_the_trail(issuer, person):
    anna = person["customers"][0]
    client = bearer(issuer.token(sub="1f7e3c52-9a7d-4c8e-8e0d-5b4a3c2d1e0f"))
    client.get(url(PROFILE))  # the profile's download first: access entries that name no one but the record
    bystanders = {c.pk: (c.first_name, c.version) for c in person["bystanders"]}

    # As the profile sends them: requests.delete(url, params={"dry_run": "true"}), then without.
    assert client.delete(url(PROFILE) + "?dry_run=true").status_code == 204
    assert _still_there(person) == 2
    response = client.delete(url(PROFILE))

    assert response.status_code == 204
    assert _still_there(person) == 0
    assert not Interaction.objects.filter(subject="Neuvonta").exists()
    # Others' records, in the same registers and elsewhere, are untouched.
    for customer in Customer.objects.filter(pk__in=bystanders):
        assert (customer.first_name, customer.version) == bystanders[customer.pk]
    assert Interaction.objects.filter(subject="Bertan asia").exists()
    # The trail keeps who, when and what, without the values; the deletion says why.
    entries = LogEntry.objects.filter(content_type__model="customer", object_id=anna.pk)
    deletion = entries.get(action=LogEntry.Action.DELETE)
    assert deletion.object_repr == erasure.ERASED_REPR
    assert deletion.actor is None
    assert deletion.additional_data["erasure_source"] == "helsinki_profile_gdpr_api"
    assert deletion.additional_data["profile_id"] == str(PROFILE)
    assert deletion.additional_data["token_subject"] == "1f7e3c52-9a7d-4c8e-8e0d-5b4a3c2d1e0f"
    for entry in entries:
        text = json.dumps([entry.object_repr, entry.changes, entry.changes_text, entry.serialized_data])
        assert "Poistettava" not in text
        assert "ulriikka@example.fi" not in text
    # A second deletion, and a read, find nothing: 204.
    assert client.delete(url(PROFILE)).status_code == 204
    assert client.get(url(PROFILE)).status_code == 204


def test_each_controller_gets_the_erasure_on_record_in_its_queue_with_the_recipients_to_tell(issuer, person):
    """The deletion leaves what an erasure on request leaves: a request in the owner's queue, named in the trail,
    with a task per recipient of disclosed data (GDPR 19); its handler takes it to its end as any other."""
    from privacy.requests import selectors as request_selectors
    from privacy.requests.workflow import request_transition
    from privacy.rights import disclosures
    from privacy.rights.models import Disclosure

    from ...privacy import steps

    anna = person["customers"][0]
    first, second = person["registers"]
    disclosures.disclosure_record(
        actor=UserFactory(),
        register=first,
        customer=anna,
        data={
            "recipient": "Kaupungin lakipalvelut",
            "recipient_kind": Disclosure.RecipientKind.LEGAL_SERVICES,
            "data_description": "nimi ja osoite",
            "legal_basis": "621/1999 16(3) §",
        },
    )
    handler, owner = UserFactory(), UserFactory()
    grant(handler, first, Role.HANDLER)
    grant(owner, first, Role.OWNER)

    assert bearer(issuer.token()).delete(url(PROFILE)).status_code == 204

    # Two controllers (each register its own in this test): a request with each.
    recorded = DataSubjectRequest.objects.filter(channel=DataSubjectRequest.Channel.PROFILE).order_by("id")
    assert [list(r.registers.all()) for r in recorded] == [[first], [second]]
    request = recorded[0]
    assert request.kind == DataSubjectRequest.Kind.ERASURE
    assert request.state == DataSubjectRequest.State.VERIFYING
    assert request.identity_method == DataSubjectRequest.IdentityMethod.PROFILE_SIGN_IN
    assert request.requester_name == "Ulriikka Poistettava"
    assert request.legal_due_at is not None
    assert request in request_selectors.request_list(user=handler)
    actions = list(request.events.values_list("action", flat=True))
    assert "erasure_executed" in actions
    assert "notifications_created" in actions
    task = request.notification_tasks.get()
    assert task.recipient == "Kaupungin lakipalvelut"
    assert task.change == DataSubjectRequest.Kind.ERASURE
    deletion = LogEntry.objects.get(content_type__model="customer", object_id=anna.pk, action=LogEntry.Action.DELETE)
    assert deletion.additional_data["erasure_request"] == request.reference
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(handler)
    with translation.override("en"):
        html = page.get(reverse("privacy:request-detail", kwargs={"code": request.code})).content.decode()
        rights = page.get(reverse("privacy:rights", kwargs={"code": request.code})).content.decode()
    assert "the city&#x27;s customer profile" in html
    assert "carried out at once by the city&#x27;s customer profile" in html
    assert "Kaupungin lakipalvelut" in rights
    # The handler takes it on from triage: nothing of the person is left to find, and the owner answers.
    request = request_transition(request=request, to=DataSubjectRequest.State.TRIAGE, actor=handler)
    request = request_transition(request=request, to=DataSubjectRequest.State.IN_PROGRESS, actor=handler)
    steps.checked(request, handler, first, [])
    erasure.erasure_plan_compute(request=request, actor=handler)
    rights_steps.prepared(request, handler)
    assert erasure.erasure_execute(request=request, actor=owner).state == DataSubjectRequest.State.RESPONDED


def test_a_refused_or_dry_run_deletion_puts_nothing_on_record(issuer, person):
    _hold_legal(person)
    before = DataSubjectRequest.objects.count()
    client = bearer(issuer.token())
    assert client.delete(url(PROFILE)).status_code == 403
    person_free = PersonCustomerFactory(register=RegisterFactory(), profile_id=uuid.uuid4())
    assert client.delete(url(person_free.profile_id) + "?dry_run=true").status_code == 204
    assert DataSubjectRequest.objects.count() == before


def test_a_record_that_stays_and_names_the_person_has_the_mention_redacted_with_its_trail(issuer, person):
    """As an erasure on request redacts the mentions a handler decides on: with no handler, every mention goes."""
    bertta = person["bystanders"][0]
    note = InteractionFactory(
        customer=bertta, subject="Bertan asia", text="Soitti Ulriikka Poistettava, ulriikka@example.fi, kiitos."
    )
    note.text = note.text + " Sovittiin tapaaminen."
    note.save()
    elsewhere = InteractionFactory(
        customer=PersonCustomerFactory(register=RegisterFactory()),
        text="Ulriikka Poistettava kävi toisessa palvelussa.",
    )

    response = bearer(issuer.token()).delete(url(PROFILE))

    assert response.status_code == 204
    note.refresh_from_db()
    assert "Poistettava" not in note.text
    assert "ulriikka@example.fi" not in note.text
    assert "[redacted]" in note.text
    assert "Sovittiin tapaaminen." in note.text
    trail = json.dumps([e.changes for e in LogEntry.objects.get_for_object(note)], ensure_ascii=False)
    assert "Poistettava" not in trail
    assert "ulriikka@example.fi" not in trail
    assert LogEntry.objects.get_for_object(note).filter(additional_data__erasure_source="helsinki_profile_gdpr_api")
    # Only the registers the person was in: another register's records are not the profile's to change.
    elsewhere.refresh_from_db()
    assert elsewhere.text == "Ulriikka Poistettava kävi toisessa palvelussa."


def test_a_search_naming_the_person_in_the_access_log_is_redacted(issuer, person):
    anna = person["customers"][0]
    searcher = UserFactory()
    LogEntry.objects.log_create(
        anna.register,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=searcher,
        additional_data={"register": anna.register.pk, "export": "customers", "filter": {"q": "ulriikka@example.fi"}},
    )

    assert bearer(issuer.token()).delete(url(PROFILE)).status_code == 204

    entry = LogEntry.objects.get(actor=searcher, action=LogEntry.Action.ACCESS)
    assert "ulriikka@example.fi" not in json.dumps(entry.additional_data)
    assert entry.additional_data["export"] == "customers"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("not json", "application/json"), (b"\x00\x01", "application/octet-stream"), ("[1, 2]", "application/json")],
)
def test_a_body_that_cannot_be_read_is_no_body_not_an_error(issuer, person, body, content_type):
    response = bearer(issuer.token()).delete(url(PROFILE) + "?dry_run=true", body, content_type=content_type)

    assert response.status_code == 204
    assert _still_there(person) == 2


def test_deleting_an_unknown_profile_is_204(issuer, person):
    response = bearer(issuer.token()).delete(url(uuid.uuid4()))

    assert response.status_code == 204
    assert _still_there(person) == 2


def test_a_database_error_while_erasing_rolls_back_and_answers_in_the_profiles_error_shape(issuer, person, monkeypatch):
    from django.db.models import ProtectedError

    real = erasure.customers_erase

    def failing(**kwargs):
        real(**kwargs)  # everything deleted, then a row that may not go
        raise ProtectedError("protected", set())

    monkeypatch.setattr(erasure, "customers_erase", failing)

    response = bearer(issuer.token()).delete(url(PROFILE))

    assert response.status_code == 500
    assert _profile_validates(response.json())
    assert response.json()["errors"][0]["code"] == "TECHNICAL_ERROR"
    assert _still_there(person) == 2
