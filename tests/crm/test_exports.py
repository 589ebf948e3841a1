import csv
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from crm import exports
from crm.models import Customer
from registers.models import CustomerField

from ..factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory

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
    assert rows[0] == ["Name", "Street address", "Postal code", "City", "Country", "Attention line"]
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


def test_an_organisations_label_names_its_contact_person_in_the_customers_language(client, staff_a, register_a):
    address = {"street_address": "Satamatie 1", "postal_code": "00100", "city": "Helsinki"}
    finnish = CustomerFactory(register=register_a, organisation_name="Aalto Oy", language="fi", **address)
    # Two contact persons: the one listed first on the customer's page (by surname) is the addressee.
    ContactPersonFactory(customer=finnish, first_name="Maija", last_name="Virtanen")
    ContactPersonFactory(customer=finnish, first_name="Olli", last_name="Heikkinen")
    swedish = CustomerFactory(register=register_a, organisation_name="Berg Ab", language="sv", **address)
    ContactPersonFactory(customer=swedish, first_name="Sven", last_name="Berg")
    english = CustomerFactory(register=register_a, organisation_name="Cole Ltd", language="en", **address)
    ContactPersonFactory(customer=english, first_name="Ann", last_name="Cole")
    unknown = CustomerFactory(register=register_a, organisation_name="Dahl Oy", language="", **address)
    ContactPersonFactory(customer=unknown, first_name="Eeva", last_name="Dahl")
    CustomerFactory(register=register_a, organisation_name="Eka Oy", **address)  # No contact person.
    PersonCustomerFactory(register=register_a, first_name="Fanni", last_name="Forss", language="fi", **address)
    client.force_login(staff_a)
    response = client.get(export_url(register_a, "customer-labels-pdf"))
    assert response.content.startswith(b"%PDF")
    attention = {lines[0]: lines[1] for lines in response.context["labels"]}
    assert attention == {
        "Aalto Oy": "Huom. Olli Heikkinen",
        "Berg Ab": "Att. Sven Berg",
        "Cole Ltd": "Attn. Ann Cole",
        "Dahl Oy": "Attn. Eeva Dahl",  # No language: the English page's word.
        "Eka Oy": "Satamatie 1",
        "Fanni Forss": "Satamatie 1",
    }
    # The printed sheet carries the line under the name.
    html = exports.labels_html(exports.label_queryset(Customer.objects.filter(pk=finnish.pk)))
    assert "Aalto Oy\nHuom. Olli Heikkinen\nSatamatie 1\n00100 Helsinki" in html
    rows = read_csv(client.get(export_url(register_a, "customer-labels-csv")))
    assert {row[0]: row[5] for row in rows[1:]}["Berg Ab"] == "Att. Sven Berg"
    assert {row[0]: row[5] for row in rows[1:]}["Fanni Forss"] == ""


MM = 96 / 25.4  # CSS pixels in a millimetre.


def laid_out_labels(html: str):
    """Lay the sheet out as WeasyPrint prints it; yield (page width, label cell, the cell's text boxes)."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    for page in HTML(string=html).render().pages:
        for cell in page._page_box.descendants():
            if isinstance(cell, boxes.TableCellBox):
                texts = [box for box in cell.descendants() if isinstance(box, boxes.TextBox)]
                yield page.width, cell, texts


def test_long_names_wrap_inside_their_label_and_the_sheet(register_a):
    names = [
        "Pohjois-Pohjanmaan Matkailu- ja Kokouspalvelukeskuksen Kehittämisosuuskunta",
        "Etelä-Savon Elinkeinokehityskeskus ja Yrityspalvelut Osakeyhtiö",
        "Varsinais-Suomen Kansainvälisten Kongressien Järjestäjät ry",
        "Lyhyt Oy",
        # As long as a name may be (200 characters).
        (
            "Suomen Matkailu- ja Kokouspalvelujen Kehittämisen, Kansainvälisten Kongressien Järjestämisen "
            "ja Pohjoismaisen Yhteistyön Edistämisen Valtakunnallinen Keskusliitto ja sen Alueelliset Yhdistykset ry"
        )[:200],
    ]
    for name in names:
        customer = CustomerFactory(
            register=register_a,
            organisation_name=name,
            street_address="Pitkänsillanranta 12 B 34",
            postal_code="00530",
            city="Helsinki",
            language="fi",
        )
        ContactPersonFactory(customer=customer, first_name="Anna-Kaisa", last_name="Väisänen-Heikkilä")
    html = exports.labels_html(exports.label_queryset(Customer.objects.filter(register=register_a)))
    printed = ""
    for page_width, cell, texts in laid_out_labels(html):
        left, top = cell.border_box_x(), cell.border_box_y()
        right, bottom = left + cell.border_width(), top + cell.border_height()
        assert right <= page_width + 0.5  # The label is on the sheet.
        # A label that grew taller or wider than 70 x 37 mm would push the rest off their stickers.
        assert cell.border_height() <= MM * 37 + 0.5
        assert cell.border_width() <= MM * 70 + 0.5
        for text in texts:
            # Every line is inside its label: nothing runs past its edge or is cut off at its foot.
            assert left <= text.position_x, text.text
            assert text.position_x + text.width <= right + 0.5, text.text
            assert top <= text.position_y, text.text
            assert text.position_y + text.height <= bottom + 0.5, text.text
            printed += text.text + " "
    for name in names:
        for word in name.split():
            assert word in printed
    assert "Huom." in printed
