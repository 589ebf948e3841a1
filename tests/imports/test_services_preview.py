"""The dry run of an import: what it counts, the errors it names by row and column, and who may run it."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.models import Customer
from crm.services import ERROR_RESTRICTED
from imports import services
from imports.models import ImportBatch
from imports.plan import ERROR_DUPLICATE_IN_FILE, ERROR_EXISTING
from registers.models import CustomerField
from registers.validators import ERROR_IDENTITY_CODE

from ..factories import CustomerFactory, RegisterFactory
from .factories import table, table_from_bytes
from .helpers import HEADERS, MAPPING, business_id, english, organisation_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]

SKIP, FILL_EMPTY, OVERWRITE = ImportBatch.MatchMode.values[:3]
IDENTITY_CODE = "131052-308T"


def preview(actor, register, rows, *, headers=HEADERS, mapping=MAPPING, match_mode=SKIP):
    return services.import_preview(
        actor=actor, register=register, table=table(headers, rows), mapping=mapping, match_mode=match_mode
    )


def messages_at(result, row):
    return [(error.column, error.message) for error in result.errors if error.row == row]


def test_it_counts_new_existing_duplicate_and_invalid_rows_without_writing(handler_a, register_a):
    CustomerFactory(register=register_a, organisation_name="Vanha Oy", business_id=business_id(1), email="")
    rows = [
        *organisation_rows(1),  # row 2: new
        ["Vanha Oy", business_id(1), "", "Kemi"],  # row 3: an existing customer (skipped in this mode)
        ["Toinen Oy", business_id(5), "info0@yritys0.example.fi", "Kemi"],  # row 4: row 2's e-mail again
        ["Kolmas Oy", business_id(6), "ei-osoite", "Kemi"],  # row 5: invalid e-mail
    ]

    result = preview(handler_a, register_a, rows)

    assert (result.rows, result.new, result.update, result.duplicate, result.invalid) == (4, 1, 0, 2, 1)
    assert messages_at(result, 3) == [("", str(ERROR_EXISTING))]
    assert messages_at(result, 4) == [("", str(ERROR_DUPLICATE_IN_FILE % {"row": 2}))]
    assert messages_at(result, 5) == [("Sähköposti", "Enter a valid email address.")]
    assert Customer.objects.filter(register=register_a).count() == 1


def test_it_names_row_and_column_of_an_identity_code_in_any_cell(handler_a, register_a):
    headers = [*HEADERS, "Lisätieto", "Vanha tunniste"]
    mapping = {**MAPPING, 4: "extra_info"}  # the last column is not imported, yet it is checked
    rows = [
        ["Yksi Oy", business_id(1), "", "Kemi", f"Yhteyshenkilön hetu {IDENTITY_CODE}", ""],
        ["Kaksi Oy", business_id(2), "", "Kemi", "", IDENTITY_CODE],
        ["Kolme Oy", business_id(3), "", IDENTITY_CODE, "", ""],
    ]

    result = preview(handler_a, register_a, rows, headers=headers, mapping=mapping)

    assert result.invalid == 3
    assert messages_at(result, 2) == [("Lisätieto", str(ERROR_IDENTITY_CODE))]
    assert messages_at(result, 3) == [("Vanha tunniste", str(ERROR_IDENTITY_CODE))]
    assert messages_at(result, 4) == [("Kaupunki", str(ERROR_IDENTITY_CODE))]
    assert result.errors[0].text == f"Row 2, column “Lisätieto”: {ERROR_IDENTITY_CODE}"


def test_it_refuses_a_column_mapped_to_a_field_the_register_does_not_collect(handler_a):
    register = RegisterFactory(collected_fields=[CustomerField.BUSINESS_ID, CustomerField.ADDRESS])
    from registers.models import Role
    from tests.conftest import grant

    grant(handler_a, register, Role.HANDLER)

    with pytest.raises(ValidationError) as refused:
        preview(handler_a, register, organisation_rows(1))

    assert any("e-mail" in message for message in refused.value.messages)


def test_it_refuses_mapping_to_the_restriction_of_processing(handler_a, register_a):
    with pytest.raises(ValidationError):
        preview(handler_a, register_a, organisation_rows(1), mapping={**MAPPING, 3: "processing_restricted"})


def test_it_checks_person_rows_as_the_staff_form_does(handler_a, register_a):
    headers = ["Etunimi", "Sukunimi", "Syntymäaika", "Y-tunnus"]
    mapping = {0: "first_name", 1: "last_name", 2: "date_of_birth", 3: "business_id"}
    rows = [
        ["Maija", "Meikäläinen", "17.5.1980", ""],  # valid person
        ["Matti", "", "1.1.1970", ""],  # no last name and no organisation name
        ["Liisa", "Virtanen", "31.2.1990", ""],  # no such date
        ["", "", "", "1234567-8"],  # bad check digit, and no name
    ]

    result = preview(handler_a, register_a, rows, headers=headers, mapping=mapping)

    assert (result.new, result.invalid) == (1, 3)
    assert messages_at(result, 3) == [("Sukunimi", "Enter the last name of the person.")]
    assert [column for column, _ in messages_at(result, 4)] == ["Syntymäaika"]
    assert "Y-tunnus" in [column for column, _ in messages_at(result, 5)]


def test_fill_empty_would_update_only_empty_fields(handler_a, register_a):
    CustomerFactory(register=register_a, business_id=business_id(1), email="vanha@example.fi", city="")
    rows = [["Vanha Oy", business_id(1), "uusi@example.fi", "Kemi"]]

    result = preview(handler_a, register_a, rows, match_mode=FILL_EMPTY)

    assert (result.new, result.update, result.duplicate) == (0, 1, 0)


def test_fill_empty_leaves_a_complete_customer_unchanged(handler_a, register_a):
    CustomerFactory(register=register_a, organisation_name="Vanha Oy", business_id=business_id(1), city="Oulu")
    rows = [["Uusi nimi Oy", business_id(1), "", "Kemi"]]

    result = preview(handler_a, register_a, rows, match_mode=FILL_EMPTY)

    assert (result.update, result.unchanged) == (0, 1)


def test_overwrite_matches_by_email_when_the_row_has_no_business_id(handler_a, register_a):
    CustomerFactory(register=register_a, organisation_name="Vanha Oy", business_id="", email="Info@Vanha.example.fi")
    rows = [["Uusi nimi Oy", "", "info@vanha.example.fi", "Kemi"]]

    result = preview(handler_a, register_a, rows, match_mode=OVERWRITE)

    assert (result.new, result.update) == (0, 1)


def test_a_restricted_customer_is_not_updated(handler_a, register_a):
    CustomerFactory(register=register_a, business_id=business_id(1), processing_restricted=True)

    result = preview(handler_a, register_a, [["Vanha Oy", business_id(1), "", "Kemi"]], match_mode=OVERWRITE)

    assert result.invalid == 1
    assert messages_at(result, 2) == [("", str(ERROR_RESTRICTED))]


def test_it_keeps_only_the_first_errors(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "MAX_ERRORS", 3)
    rows = [[f"Yritys {n}", "", "rikki", ""] for n in range(10)]

    result = preview(handler_a, register_a, rows)

    assert result.invalid == 10
    assert len(result.errors) == 3
    assert list(result.rejected) == list(range(2, 12))


def test_the_rejected_rows_file_has_the_rows_to_fix_with_their_errors(handler_a, register_a):
    CustomerFactory(register=register_a, business_id=business_id(9))
    rows = [
        *organisation_rows(1),
        ["Rikki Oy", business_id(2), "rikki", "Kemi"],
        ["Vanha Oy", business_id(9), "", "Kemi"],  # an existing customer: skipped, nothing to fix
        ["Tupla Oy", business_id(0), "", "Kemi"],  # row 2's business ID again
    ]
    out = io.StringIO()

    result = services.import_preview(
        actor=handler_a, register=register_a, table=table(HEADERS, rows), mapping=MAPPING, match_mode=SKIP, out=out
    )

    lines = out.getvalue().splitlines()
    assert list(result.rejected) == [3, 5]
    assert lines[0] == "Nimi;Y-tunnus;Sähköposti;Kaupunki;error"
    assert lines[1].startswith(f"Rikki Oy;{business_id(2)};rikki;Kemi;Row 3, column “Sähköposti”:")
    assert lines[2].startswith(f"Tupla Oy;{business_id(0)};;Kemi;Row 5: ")
    assert len(lines) == 3


def test_a_rejected_cell_that_looks_like_a_formula_stays_text_and_reads_back_as_it_was(handler_a, register_a):
    """The rejected rows are opened in a spreadsheet program: '=HYPERLINK(...)' must not run there (CSV
    injection), and the fixed file read back must give the name as typed, without the ' that kept it text."""
    name = '=HYPERLINK("http://evil.example","Klikkaa")'
    rows = [[name, business_id(2), "rikki", "+358401234567"]]
    out = io.StringIO()

    services.import_preview(
        actor=handler_a, register=register_a, table=table(HEADERS, rows), mapping=MAPPING, match_mode=SKIP, out=out
    )

    written = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))[1]
    assert written[0].startswith("'=HYPERLINK(")
    assert written[3] == "'+358401234567"
    read_back = next(iter(table_from_bytes(out.getvalue().encode()).rows))
    assert read_back.cells[0] == name
    assert read_back.cells[3] == "+358401234567"


def test_staff_may_not_import(staff_a, register_a):
    with pytest.raises(PermissionDenied, match=str(services.ERROR_NO_IMPORT_RIGHT)):
        preview(staff_a, register_a, organisation_rows(1))


def test_an_owner_of_another_register_may_not_import_here(register_a, register_b):
    from registers.models import Role
    from tests.conftest import grant
    from tests.factories import UserFactory

    owner_b = UserFactory(username="owner_b")
    grant(owner_b, register_b, Role.OWNER)

    with pytest.raises(PermissionDenied):
        preview(owner_b, register_a, organisation_rows(1))
    with pytest.raises(PermissionDenied):
        services.import_batch_create(actor=owner_b, register=register_a, file=io.BytesIO(b"a"), file_name="a.csv")


def test_the_owner_may_import(owner_a, register_a):
    assert preview(owner_a, register_a, organisation_rows(2)).new == 2
