"""Files of contact persons and interactions: linked to the register's customers, checked, committed and undone."""

import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from crm.models import ContactPerson, Customer, Interaction
from crm.services import contact_person_update, interaction_update
from imports import services
from imports.linked import (
    ERROR_BAD_TIME,
    ERROR_CONTACT_EXISTS,
    ERROR_NO_CUSTOMER,
    ERROR_NO_ORGANISATION,
    ERROR_SAME_ROW,
    ERROR_SEVERAL_CUSTOMERS,
    parse_interaction_kind,
    parse_time,
)
from imports.models import ImportBatch, ImportedRecord
from registers.validators import ERROR_IDENTITY_CODE

from ..factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory
from ..privacy.retention_helpers import open_request_for
from .factories import table, upload
from .helpers import business_id, english, previewed_batch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]

CONTACTS, INTERACTIONS = ImportBatch.Kind.CONTACT_PERSONS, ImportBatch.Kind.INTERACTIONS
CONTACT_HEADERS = ["Y-tunnus", "Etunimi", "Sukunimi", "Sähköposti", "Titteli"]
CONTACT_MAPPING = {0: "business_id", 1: "first_name", 2: "last_name", 3: "email", 4: "title"}
INTERACTION_HEADERS = ["Y-tunnus", "Sähköposti", "Aika", "Tyyppi", "Aihe"]
INTERACTION_MAPPING = {0: "business_id", 1: "email", 2: "occurred_at", 3: "kind", 4: "subject"}


def preview(actor, register, kind, headers, mapping, rows):
    return services.import_preview(
        actor=actor, register=register, table=table(headers, rows), mapping=mapping, match_mode="skip", kind=kind
    )


def errors_at(result, row):
    return [(error.column, error.message) for error in result.errors if error.row == row]


def committed(actor, register, kind, headers, mapping, rows):
    batch = previewed_batch(actor=actor, register=register, rows=rows, headers=headers, mapping=mapping, kind=kind)
    services.import_transition(batch=batch, to=ImportBatch.State.QUEUED, actor=actor)
    return services.import_commit_run(batch_id=batch.pk)


@pytest.fixture
def organisation(register_a):
    return CustomerFactory(register=register_a, organisation_name="Kemin Kala Oy", business_id=business_id(1))


# Contact persons.


def test_a_contact_person_file_is_checked_row_by_row_against_the_register(
    handler_a, register_a, register_b, organisation
):
    ContactPersonFactory(customer=organisation, first_name="Olli", last_name="Olemassa", email="olli@kala.example.fi")
    CustomerFactory(register=register_b, business_id=business_id(3))  # another register's organisation
    rows = [
        [business_id(1), "Maija", "Meikäläinen", "maija@kala.example.fi", "Myyntipäällikkö"],  # 2: new
        [business_id(9), "Pekka", "Puuttuva", "", ""],  # 3: no such organisation
        [business_id(3), "Bertta", "Toinen", "", ""],  # 4: only in register B
        [business_id(1), "Olli", "Olemassa", "OLLI@kala.example.fi", ""],  # 5: already a contact person
        [business_id(1), "Maija", "Meikäläinen", "maija@kala.example.fi", ""],  # 6: row 2 again
        [business_id(1), "Hannu", "Hetu", "", "131052-308T"],  # 7: an identity code
        [business_id(1), "Eino", "", "ei-osoite", ""],  # 8: no last name, bad e-mail
    ]

    result = preview(handler_a, register_a, CONTACTS, CONTACT_HEADERS, CONTACT_MAPPING, rows)

    assert (result.rows, result.new, result.duplicate, result.invalid) == (7, 1, 2, 4)
    assert errors_at(result, 3) == [("Y-tunnus", str(ERROR_NO_ORGANISATION))]
    assert errors_at(result, 4) == [("Y-tunnus", str(ERROR_NO_ORGANISATION))]
    assert errors_at(result, 5) == [("", str(ERROR_CONTACT_EXISTS))]
    assert errors_at(result, 6) == [("", str(ERROR_SAME_ROW % {"row": 2}))]
    assert errors_at(result, 7) == [("Titteli", str(ERROR_IDENTITY_CODE))]
    assert sorted(column for column, _message in errors_at(result, 8)) == ["Sukunimi", "Sähköposti"]
    assert list(result.rejected) == [3, 4, 6, 7, 8]  # the existing contact person is not a row to fix
    assert ContactPerson.objects.count() == 1


def test_contact_persons_are_committed_with_records_and_audit_entries(handler_a, register_a, organisation):
    rows = [
        [business_id(1), "Maija", "Meikäläinen", "maija@kala.example.fi", "Myyntipäällikkö"],
        [business_id(1), "Matti", "Virtanen", "", ""],
        [business_id(9), "Pekka", "Puuttuva", "", ""],
    ]

    batch = committed(handler_a, register_a, CONTACTS, CONTACT_HEADERS, CONTACT_MAPPING, rows)

    assert (batch.state, batch.created, batch.invalid) == (ImportBatch.State.DONE, 2, 1)
    people = ContactPerson.objects.filter(customer=organisation).order_by("last_name")
    assert [(p.last_name, p.title) for p in people] == [("Meikäläinen", "Myyntipäällikkö"), ("Virtanen", "")]
    assert sorted(ImportedRecord.objects.filter(batch=batch).values_list("contact_person__last_name", flat=True)) == [
        "Meikäläinen", "Virtanen",
    ]  # fmt: skip
    entries = LogEntry.objects.filter(content_type__model="contactperson", action=LogEntry.Action.CREATE)
    assert entries.count() == 2
    assert {e.actor for e in entries} == {handler_a}
    assert {e.additional_data["register"] for e in entries} == {register_a.pk}
    assert {e.additional_data["import_batch"] for e in entries} == {str(batch.code)}
    organisation.refresh_from_db()
    assert organisation.last_activity_at is not None


def test_undo_deletes_the_contact_persons_except_those_changed_or_requested_since(
    owner_a, handler_a, register_a, organisation
):
    other = CustomerFactory(register=register_a, business_id=business_id(2))
    rows = [
        [business_id(1), "Maija", "Meikäläinen", "", ""],
        [business_id(1), "Matti", "Muutettu", "", ""],
        [business_id(2), "Riikka", "Pyytäjä", "", ""],
    ]
    batch = committed(handler_a, register_a, CONTACTS, CONTACT_HEADERS, CONTACT_MAPPING, rows)
    changed = ContactPerson.objects.get(last_name="Muutettu")
    contact_person_update(actor=owner_a, person=changed, data={"title": "Johtaja"}, version=changed.version)
    open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=other)

    result = services.import_undo(actor=handler_a, batch=batch)

    assert (result.deleted, result.kept_count) == (1, 2)
    assert {(k.name, tuple(k.reasons)) for k in result.kept} == {
        ("Matti Muutettu", ("changed since the import",)),
        ("Riikka Pyytäjä", ("in an open data-subject request",)),
    }
    assert sorted(ContactPerson.objects.values_list("last_name", flat=True)) == ["Muutettu", "Pyytäjä"]
    deleted = LogEntry.objects.get(content_type__model="contactperson", action=LogEntry.Action.DELETE)
    assert (deleted.actor, deleted.additional_data["undo"]) == (handler_a, True)


# Interactions.


def test_an_interaction_file_links_by_business_id_or_customer_email_and_reads_finnish_times(
    handler_a, register_a, register_b, organisation
):
    person = PersonCustomerFactory(register=register_a, email="Anna@Example.fi", business_id="")
    CustomerFactory(register=register_a, business_id="", email="yhteinen@example.fi")
    CustomerFactory(register=register_a, business_id="", email="yhteinen@example.fi")
    CustomerFactory(register=register_b, business_id=business_id(3), email="b@example.fi")
    rows = [
        [business_id(1), "", "1.3.2025 14.30", "tapaaminen", "Vuosipalaveri"],  # 2
        ["", "anna@example.fi", "2025-03-02", "", "Soitto asiakkaalle"],  # 3: a note by default
        ["", "yhteinen@example.fi", "1.3.2025", "", "Kenelle?"],  # 4: two customers share the address
        [business_id(3), "", "1.3.2025", "", "Väärä rekisteri"],  # 5: register B's customer
        ["", "b@example.fi", "1.3.2025", "", "Väärä rekisteri"],  # 6: register B's customer, by e-mail
        [business_id(1), "", "31.2.2025", "", "Huono päivä"],  # 7
        [business_id(1), "", "1.3.2099 10.00", "saapuva puhelu", "Tulevaisuudesta"],  # 8: a call in the future
        [business_id(1), "", "1.3.2025 14.30", "meeting", "Vuosipalaveri"],  # 9: row 2 again
    ]

    result = preview(handler_a, register_a, INTERACTIONS, INTERACTION_HEADERS, INTERACTION_MAPPING, rows)

    assert (result.rows, result.new, result.duplicate, result.invalid) == (8, 2, 1, 5)
    assert errors_at(result, 4) == [("Sähköposti", str(ERROR_SEVERAL_CUSTOMERS))]
    assert errors_at(result, 5) == [("Y-tunnus", str(ERROR_NO_CUSTOMER))]
    assert errors_at(result, 6) == [("Sähköposti", str(ERROR_NO_CUSTOMER))]
    assert errors_at(result, 7) == [("Aika", str(ERROR_BAD_TIME))]
    assert [column for column, _message in errors_at(result, 8)] == ["Aika"]
    assert errors_at(result, 9) == [("", str(ERROR_SAME_ROW % {"row": 2}))]

    batch = committed(handler_a, register_a, INTERACTIONS, INTERACTION_HEADERS, INTERACTION_MAPPING, rows)

    assert batch.created == 2
    meeting = Interaction.objects.get(customer=organisation)
    note = Interaction.objects.get(customer=person)
    local = timezone.localtime(meeting.occurred_at)
    assert (meeting.kind, local.date(), local.hour, local.minute) == ("meeting", datetime.date(2025, 3, 1), 14, 30)
    assert (note.kind, timezone.localtime(note.occurred_at).date()) == ("note", datetime.date(2025, 3, 2))
    assert meeting.staff_user == handler_a
    assert LogEntry.objects.filter(content_type__model="interaction", action=LogEntry.Action.CREATE).count() == 2


def test_importing_the_same_interactions_again_finds_them_as_duplicates(handler_a, register_a, organisation):
    rows = [[business_id(1), "", "1.3.2025 9.00", "muistiinpano", "Muistio"]]
    committed(handler_a, register_a, INTERACTIONS, INTERACTION_HEADERS, INTERACTION_MAPPING, rows)

    result = preview(handler_a, register_a, INTERACTIONS, INTERACTION_HEADERS, INTERACTION_MAPPING, rows)

    assert (result.new, result.duplicate, list(result.rejected)) == (0, 1, [])


def test_undo_deletes_the_interactions_except_one_edited_since(handler_a, register_a, organisation):
    rows = [[business_id(1), "", "1.3.2025", "", "Ensimmäinen"], [business_id(1), "", "2.3.2025", "", "Toinen"]]
    batch = committed(handler_a, register_a, INTERACTIONS, INTERACTION_HEADERS, INTERACTION_MAPPING, rows)
    edited = Interaction.objects.get(subject="Toinen")
    interaction_update(actor=handler_a, interaction=edited, data={"text": "Lisätty myöhemmin"})

    result = services.import_undo(actor=handler_a, batch=batch)

    assert (result.deleted, result.kept_count) == (1, 1)
    assert [(k.name, k.reasons) for k in result.kept] == [("Toinen", ["changed since the import"])]
    assert list(Interaction.objects.values_list("subject", flat=True)) == ["Toinen"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.3.2025", (2025, 3, 1, 0, 0)),
        ("01.03.2025 14.30", (2025, 3, 1, 14, 30)),
        ("1.3.2025 klo 8.05", (2025, 3, 1, 8, 5)),
        ("1.3.2025 14:30", (2025, 3, 1, 14, 30)),
        ("2025-03-01", (2025, 3, 1, 0, 0)),
        ("2025-03-01 14:30:00", (2025, 3, 1, 14, 30)),
        ("2025-03-01T14:30", (2025, 3, 1, 14, 30)),
    ],
)
def test_times_are_read_in_iso_and_finnish_forms_as_local_time(text, expected):
    moment = timezone.localtime(parse_time(text))

    assert (moment.year, moment.month, moment.day, moment.hour, moment.minute) == expected


@pytest.mark.parametrize("text", ["", "huomenna", "32.1.2025", "1.3.2025 25.00", "0001-01-01"])
def test_a_time_that_is_not_one_is_refused(text):
    with pytest.raises(Exception, match=str(ERROR_BAD_TIME)):
        parse_time(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("note", "note"), ("Muistiinpano", "note"), ("Lähtevä puhelu", "call_out"), ("möte", "meeting")],
)
def test_interaction_kinds_are_read_in_every_language(text, kind):
    assert parse_interaction_kind(text) == kind


# The screens.


def test_a_contact_person_file_goes_through_the_screens(
    client, handler_a, register_a, organisation, django_capture_on_commit_callbacks
):
    client.force_login(handler_a)
    rows = [[business_id(1), "Maija", "Meikäläinen", "", ""], [business_id(9), "Pekka", "Puuttuva", "", ""]]

    response = client.post(
        reverse("imports:batch-list", kwargs={"register": register_a.slug}),
        {"kind": CONTACTS, "file": upload(CONTACT_HEADERS, rows, name="yhteyshenkilot.csv")},
    )
    batch = ImportBatch.objects.get()
    mapping_page = client.get(response["Location"])
    assert batch.kind == CONTACTS
    assert '<option value="business_id" selected>' in mapping_page.content.decode()
    assert "match_mode" not in mapping_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], {f"column_{i}": name for i, name in CONTACT_MAPPING.items()})
    page = client.get(response["Location"]).content.decode()
    assert f"Row 3, column “Y-tunnus”: {ERROR_NO_ORGANISATION}" in page
    assert "Import 1 row" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:batch-start", kwargs={"register": register_a.slug, "code": batch.code}))
    assert ContactPerson.objects.get().customer == organisation

    undone = client.post(
        reverse("imports:batch-undo", kwargs={"register": register_a.slug, "code": batch.code}), follow=True
    )

    assert "The import was undone: 1 rows deleted, 0 kept." in [str(m) for m in undone.context["messages"]]
    assert not ContactPerson.objects.exists()
    assert Customer.objects.filter(pk=organisation.pk).exists()


def test_a_file_kind_that_does_not_exist_is_refused_on_the_form(client, handler_a, register_a):
    client.force_login(handler_a)

    response = client.post(
        reverse("imports:batch-list", kwargs={"register": register_a.slug}),
        {"kind": "invoices", "file": io.BytesIO(b"a;b\n1;2\n")},
    )

    assert response.status_code == 200
    assert "kind" in response.context["form"].errors
    assert not ImportBatch.objects.exists()
