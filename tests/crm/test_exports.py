import csv
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from crm import exports
from registers.models import CustomerField

from ..factories import CustomerFactory, PersonCustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def export_url(register, name="customer-export", query=""):
    return reverse(f"crm:{name}", kwargs={"register": register.slug}) + query


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_csv_holds_the_filtered_list_and_only_collected_fields(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.EMAIL, CustomerField.MOBILE]
    register_a.save()
    CustomerFactory(
        register=register_a, organisation_name="Merituuli Oy", email="info@merituuli.fi", mobile="+358401234567"
    )
    CustomerFactory(register=register_a, organisation_name="Kivirinne Ky")
    client.force_login(staff_a)
    response = client.get(export_url(register_a, query="?q=tuuli"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{register_a.slug}-customers-')
    rows = read_csv(response)
    assert rows[0] == [
        "Customer type",
        "Organisation name",
        "First name",
        "Last name",
        "Mobile phone",
        "E-mail",
        "Objects to direct marketing",
        "Processing restricted",
        "Last activity",
    ]
    assert len(rows) == 2
    # The ' keeps the phone number as text in a spreadsheet (registers.spreadsheet).
    assert rows[1][:6] == ["organisation", "Merituuli Oy", "", "", "'+358401234567", "info@merituuli.fi"]


def test_the_csv_never_holds_another_registers_customers(client, staff_a, register_a, register_b):
    CustomerFactory(register=register_a, organisation_name="Oma Oy")
    CustomerFactory(register=register_b, organisation_name="Vieras Oy")
    client.force_login(staff_a)
    names = [row[1] for row in read_csv(client.get(export_url(register_a)))[1:]]
    assert names == ["Oma Oy"]


def test_a_formula_in_a_cell_is_neutralised(client, staff_a, register_a):
    CustomerFactory(register=register_a, organisation_name='=HYPERLINK("http://evil.example","Klikkaa")')
    client.force_login(staff_a)
    rows = read_csv(client.get(export_url(register_a)))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","Klikkaa")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("-15", "'-15"),  # one rule for every cell: no exception for what looks like a number
        ("+358401234567", "'+358401234567"),
        ("\tx", "'\tx"),
        ("Merituuli Oy", "Merituuli Oy"),
        ("", ""),
    ],
)
def test_every_csv_cell_that_starts_like_a_formula_gets_a_quote(client, staff_a, register_a, value, expected):
    # Through the whole export and both of its cell paths: the customer CSV's inlined check and the labels' rows.
    register_a.collected_fields = [CustomerField.ADDRESS]
    register_a.save()
    CustomerFactory(register=register_a, organisation_name="Nimi Oy", street_address=value or "Tie 1", city=value)
    client.force_login(staff_a)
    customers = read_csv(client.get(export_url(register_a)))
    labels = read_csv(client.get(export_url(register_a, "customer-labels-csv")))
    city = customers[0].index("City")
    assert customers[1][city] == expected
    assert labels[1][3] == expected


def test_an_export_is_access_logged_with_its_filter_and_row_count(client, staff_a, register_a):
    CustomerFactory(register=register_a, organisation_name="Merituuli Oy")
    client.force_login(staff_a)
    read_csv(client.get(export_url(register_a, query="?q=tuuli")))
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_id=register_a.pk)
    assert entry.actor == staff_a
    assert entry.additional_data["export"] == "customers_csv"
    assert entry.additional_data["filter"] == {"q": "tuuli"}
    assert entry.additional_data["rows"] == 1


def test_the_export_takes_the_same_number_of_queries_for_any_number_of_rows(
    client, staff_a, register_a, django_assert_num_queries
):
    client.force_login(staff_a)
    CustomerFactory(register=register_a)
    read_csv(client.get(export_url(register_a)))  # Warm the session and content-type caches.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        read_csv(client.get(export_url(register_a)))
    CustomerFactory.create_batch(30, register=register_a)
    with CaptureQueriesContext(connection) as many:
        rows = read_csv(client.get(export_url(register_a)))
    assert len(rows) == 32
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.fixture
def mailing(register_a):
    return {
        "reachable": CustomerFactory(
            register=register_a,
            organisation_name="Merituuli Oy",
            street_address="Satamatie 1",
            postal_code="00100",
            city="Helsinki",
        ),
        "abroad": PersonCustomerFactory(
            register=register_a,
            first_name="Sven",
            last_name="Svensson",
            street_address="Storgatan 2",
            postal_code="111 22",
            city="Stockholm",
            country="Sverige",
        ),
        "objected": CustomerFactory(
            register=register_a, organisation_name="Kielto Oy", street_address="Tie 3", marketing_objection=True
        ),
        "restricted": CustomerFactory(
            register=register_a, organisation_name="Rajoitus Oy", street_address="Tie 4", processing_restricted=True
        ),
        "no_address": CustomerFactory(register=register_a, organisation_name="Osoitteeton Oy"),
    }


def test_mailing_labels_leave_out_objections_restrictions_and_missing_addresses(client, staff_a, register_a, mailing):
    client.force_login(staff_a)
    rows = read_csv(client.get(export_url(register_a, "customer-labels-csv")))
    assert rows[0] == ["Name", "Street address", "Postal code", "City", "Country"]
    assert [row[0] for row in rows[1:]] == ["Merituuli Oy", "Sven Svensson"]


def test_mailing_labels_follow_the_list_filter(client, staff_a, register_a, mailing):
    client.force_login(staff_a)
    rows = read_csv(client.get(export_url(register_a, "customer-labels-csv", "?kind=person")))
    assert [row[0] for row in rows[1:]] == ["Sven Svensson"]


def test_the_pdf_labels_hold_only_reachable_customers(client, staff_a, register_a, mailing):
    client.force_login(staff_a)
    response = client.get(export_url(register_a, "customer-labels-pdf"))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    # The PDF's text is compressed glyph runs; the labels handed to its template tell what it holds.
    assert response.context["labels"] == [
        ["Merituuli Oy", "Satamatie 1", "00100 Helsinki"],
        ["Sven Svensson", "Storgatan 2", "111 22 Stockholm", "SVERIGE"],
    ]


def test_label_lines_write_the_country_only_for_mail_abroad():
    assert exports.label_lines(("organisation", "Oy", "", "", "Tie 1", "00100", "Helsinki", "Suomi")) == [
        "Oy",
        "Tie 1",
        "00100 Helsinki",
    ]
    assert (
        exports.label_lines(("person", "", "Sven", "S", "Gatan 2", "111 22", "Stockholm", "Sverige"))[-1] == "SVERIGE"
    )


def test_too_many_pdf_labels_send_the_user_back_with_a_message(client, staff_a, register_a, mailing, monkeypatch):
    monkeypatch.setattr(exports, "MAX_PDF_LABELS", 1)
    client.force_login(staff_a)
    response = client.get(export_url(register_a, "customer-labels-pdf", "?sort=name"), follow=True)
    assert response.redirect_chain[-1][0] == export_url(register_a, "customer-list", "?sort=name")
    assert "labels are too many for one PDF" in response.content.decode()


def test_a_register_without_addresses_has_no_labels(client, staff_a, register_a):
    register_a.collected_fields = [CustomerField.EMAIL]
    register_a.save()
    client.force_login(staff_a)
    assert client.get(export_url(register_a, "customer-labels-csv")).status_code == 404
    assert client.get(export_url(register_a, "customer-labels-pdf")).status_code == 404
