"""Reading customer files: encodings, delimiters, spreadsheet values, limits and files that cannot be read."""

import contextlib
import datetime
import hashlib
import io
import random
import zipfile

import openpyxl
import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import CoveredTableCell, Table, TableCell, TableRow
from odf.text import P

from imports import reading
from imports.reading import (
    ERROR_EMPTY,
    ERROR_NOT_KIND,
    ERROR_NOT_TEXT,
    ERROR_TOO_LARGE,
    ERROR_TOO_MANY_ROWS,
    ERROR_UNKNOWN_KIND,
    ERROR_UNREADABLE,
    FileRefused,
    Row,
    read_table,
)


def naive(text: str) -> datetime.datetime:
    """Return a date and time without a zone, as a spreadsheet cell holds one."""
    return datetime.datetime.fromisoformat(text)


def read(data: bytes, name: str):
    return read_table(io.BytesIO(data), file_name=name)


def rows(table) -> list[tuple[int, tuple[str, ...]]]:
    return [(row.number, row.cells) for row in table.rows]


def refusal(data: bytes, name: str) -> str:
    with pytest.raises(FileRefused) as caught:
        list(read(data, name).rows)
    return caught.value.messages[0]


def xlsx(*rows_, merge: str = "", edit=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows_:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    if edit:
        edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ods_cell(text="", **attributes):
    cell = TableCell(**attributes)
    if text:
        cell.addElement(P(text=text))
    return cell


def ods(*rows_) -> bytes:
    document = OpenDocumentSpreadsheet()
    table = Table(name="Asiakkaat")
    for cells in rows_:
        row = TableRow()
        for cell in cells:
            row.addElement(cell)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- CSV --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_it_reads_finnish_and_swedish_letters_in_each_encoding(encoding):
    text = "Nimi;Kaupunki\r\nÄänekosken Öljy Oy;Åbo\r\nSäätiö;Vörå\r\n"

    table = read(text.encode(encoding), "asiakkaat.csv")

    assert table.headers == ["Nimi", "Kaupunki"]
    assert rows(table) == [(2, ("Äänekosken Öljy Oy", "Åbo")), (3, ("Säätiö", "Vörå"))]


def test_it_reads_latin1_bytes_that_cp1252_leaves_undefined():
    table = read("Nimi\nÅsa\n".encode("cp1252") + b"\x81\n", "asiakkaat.csv")

    assert rows(table) == [(2, ("Åsa",)), (3, ("\x81",))]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_it_finds_the_delimiter(delimiter):
    text = delimiter.join(["Nimi", "Y-tunnus", "Postinumero"]) + "\n" + delimiter.join(["Oy Ab", "0112038-9", "00100"])

    table = read(text.encode(), "asiakkaat.csv")

    assert table.headers == ["Nimi", "Y-tunnus", "Postinumero"]
    assert rows(table) == [(2, ("Oy Ab", "0112038-9", "00100"))]


def test_it_keeps_commas_inside_cells_of_a_semicolon_file():
    table = read(b'Nimi;Osoite\n"Virtanen, Matti";"Katu 1, A 2"\n', "asiakkaat.csv")

    assert rows(table) == [(2, ("Virtanen, Matti", "Katu 1, A 2"))]


def test_a_quoted_cell_may_span_lines_and_counts_as_one_row():
    table = read(b'Nimi;Lis\xc3\xa4tiedot\r\n"Oy Ab";"rivi 1\r\nrivi 2"\r\n"Ky";x\r\n', "asiakkaat.csv")

    assert rows(table) == [(2, ("Oy Ab", "rivi 1\r\nrivi 2")), (3, ("Ky", "x"))]


def test_empty_rows_are_skipped_but_still_numbered():
    table = read(b"\n;;\nNimi;Kaupunki\n\nOy Ab;Turku\n ; \nKy;Oulu\n", "asiakkaat.csv")

    assert table.headers == ["Nimi", "Kaupunki"]
    assert rows(table) == [(5, ("Oy Ab", "Turku")), (7, ("Ky", "Oulu"))]


def test_cells_are_stripped_and_short_rows_padded_to_the_headers():
    table = read(b"Nimi;Kaupunki;Maa;\n  Oy Ab  \n", "asiakkaat.csv")

    assert table.headers == ["Nimi", "Kaupunki", "Maa"]
    assert rows(table) == [(2, ("Oy Ab", "", ""))]


def test_a_cell_that_looks_like_a_formula_is_data():
    table = read(b'Nimi;Puhelin;Huom\n=HYPERLINK("x");+358401234567;@muistio\n-5;;\n', "asiakkaat.csv")

    assert rows(table) == [(2, ('=HYPERLINK("x")', "+358401234567", "@muistio")), (3, ("-5", "", ""))]


def test_the_table_names_the_file_and_its_checksum():
    data = b"Nimi\nOy Ab\n"

    table = read(data, "Asiakkaat 2025.CSV")

    assert (table.file_name, table.kind) == ("Asiakkaat 2025.CSV", "csv")
    assert table.checksum == hashlib.sha256(data).hexdigest()


def test_the_rows_can_be_read_after_the_upload_is_closed():
    upload = io.BytesIO(b"Nimi\nOy Ab\n")
    table = read_table(upload, file_name="a.csv")
    upload.close()

    assert rows(table) == [(2, ("Oy Ab",))]


def test_a_header_only_file_has_no_rows():
    assert rows(read(b"Nimi;Kaupunki\n", "a.csv")) == []


def test_a_binary_file_named_csv_is_refused():
    assert refusal(b"PK\x03\x04\x00\x00binary", "asiakkaat.csv") == ERROR_NOT_TEXT


def test_a_cell_too_long_to_read_is_refused_with_its_row():
    data = b"Nimi\nOy Ab\n" + b'"' + b"x" * 200_000 + b'"\n'

    message = refusal(data, "asiakkaat.csv")

    assert "Row 3 " in message


# --- Excel --------------------------------------------------------------------------------------------


def test_it_reads_excel_values_as_the_importer_parses_them():
    data = xlsx(
        ["Nimi", "Syntymäaika", "Postinumero", "Puhelin", "Summa", "Aika", "Kielto"],
        ["Oy Ab", datetime.date(1980, 3, 1), "00100", 358401234567, 100.0, naive("2025-01-02 09:30"), True],
        ["  Ky  ", None, "02100", "040 123", 3.5, naive("2025-01-02 09:30:15"), False],
    )

    table = read(data, "asiakkaat.xlsx")

    assert table.kind == "xlsx"
    assert table.headers == ["Nimi", "Syntymäaika", "Postinumero", "Puhelin", "Summa", "Aika", "Kielto"]
    assert rows(table) == [
        (2, ("Oy Ab", "1980-03-01", "00100", "358401234567", "100", "2025-01-02 09:30", "TRUE")),
        (3, ("Ky", "", "02100", "040 123", "3.5", "2025-01-02 09:30:15", "FALSE")),
    ]


def test_a_merged_header_cell_gives_empty_headers_for_the_covered_cells():
    table = read(xlsx(["Nimi", None, "Kaupunki"], ["Oy", "Ab", "Turku"], merge="A1:B1"), "a.xlsx")

    assert table.headers == ["Nimi", "", "Kaupunki"]
    assert rows(table) == [(2, ("Oy", "Ab", "Turku"))]


def test_excel_rows_keep_their_sheet_numbers_past_empty_rows():
    table = read(xlsx([], [], ["Nimi"], [], ["Oy Ab"], ["-5"]), "a.xlsx")

    assert table.headers == ["Nimi"]
    assert rows(table) == [(5, ("Oy Ab",)), (6, ("-5",))]


def test_a_formula_cell_is_read_as_its_calculated_value():
    # openpyxl writes formulas without a calculated value; Excel and Calc store one, as here.
    def with_value(data: bytes) -> bytes:
        source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
        with zipfile.ZipFile(target, "w") as archive:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    assert b"<f>1+2</f><v />" in content
                    content = content.replace(b"<f>1+2</f><v />", b"<f>1+2</f><v>3</v>")
                archive.writestr(item, content)
        return target.getvalue()

    def text_cell(workbook):
        workbook.active["B2"].data_type = "s"

    table = read(with_value(xlsx(["Summa", "Teksti"], ["=1+2", "=kaava"], edit=text_cell)), "a.xlsx")

    assert rows(table) == [(2, ("3", "=kaava"))]


def test_a_formula_without_a_calculated_value_is_empty_not_its_text():
    table = read(xlsx(["Nimi", "Summa"], ["Oy", "=1+2"]), "a.xlsx")

    assert rows(table) == [(2, ("Oy", ""))]


def test_the_first_visible_sheet_is_read():
    def hide_first(workbook):
        workbook.active.sheet_state = "hidden"
        second = workbook.create_sheet("Asiakkaat")
        second.append(["Nimi"])
        second.append(["Näkyvä Oy"])
        workbook.active = 1

    table = read(xlsx(["Piilo"], ["Piilotettu"], edit=hide_first), "a.xlsx")

    assert rows(table) == [(2, ("Näkyvä Oy",))]


def test_a_sparse_excel_file_that_would_exhaust_memory_is_refused_not_fatal():
    # Two cells at opposite corners make calamine allocate 17 billion cells: the child process dies, not us.
    def far_corner(workbook):
        workbook.active["XFD1048576"] = "kaukana"

    assert refusal(xlsx(["Nimi"], edit=far_corner), "a.xlsx") == ERROR_UNREADABLE


# --- OpenDocument -------------------------------------------------------------------------------------


def test_it_reads_opendocument_values_formulas_and_merged_headers():
    data = ods(
        [
            ods_cell("Nimi", valuetype="string", numbercolumnsspanned=2),
            CoveredTableCell(),
            ods_cell("Pvm", valuetype="string"),
        ],
        [
            ods_cell("00100", valuetype="string"),
            ods_cell("100", valuetype="float", value="100"),
            ods_cell("1.3.2025", valuetype="date", datevalue="2025-03-01"),
        ],
        [],
        [
            ods_cell("3", valuetype="float", value="3", formula="of:=1+2"),
            ods_cell("2,5", valuetype="float", value="2.5"),
            ods_cell("=teksti", valuetype="string"),
        ],
    )

    table = read(data, "asiakkaat.ods")

    assert table.kind == "ods"
    assert table.headers == ["Nimi", "", "Pvm"]
    assert rows(table) == [(2, ("00100", "100", "2025-03-01")), (4, ("3", "2.5", "=teksti"))]


def test_an_opendocument_file_repeating_a_cell_millions_of_times_is_refused():
    cell = ods_cell("x", valuetype="string", numbercolumnsrepeated=1000)
    document = OpenDocumentSpreadsheet()
    table = Table(name="x")
    row = TableRow(numberrowsrepeated=1_000_000)
    row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.save(buffer)

    assert refusal(buffer.getvalue(), "a.ods") == ERROR_UNREADABLE


# --- Limits and refusals --------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 2 * 1024 * 1024)

    message = refusal(b"Nimi\n" + b"x\n" * (1024 * 1024 + 1), "a.csv")

    assert message == ERROR_TOO_LARGE % {"limit": 2}
    assert "2 MB" in message


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_over_the_row_limit_is_refused_naming_the_limit(monkeypatch, kind):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    data_rows = [["Nimi"], ["a"], ["b"], [], ["c"], ["d"]]
    data = b"Nimi\na\nb\n\nc\nd\n" if kind == "csv" else xlsx(*data_rows)

    message = refusal(data, f"a.{kind}")

    assert message == ERROR_TOO_MANY_ROWS % {"limit": 3}


def test_a_file_at_the_row_limit_is_read(monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)

    assert len(rows(read(b"Nimi\na\n\nb\nc\n", "a.csv"))) == 3


@pytest.mark.parametrize("name", ["asiakkaat.txt", "asiakkaat", "asiakkaat.xlsm", "asiakkaat.csv.exe"])
def test_an_unknown_extension_is_refused(name):
    assert refusal(b"Nimi\nOy\n", name) == ERROR_UNKNOWN_KIND


@pytest.mark.parametrize("name", ["a.csv", "a.xlsx", "a.ods", "a.xls"])
def test_an_empty_file_is_refused(name):
    assert refusal(b"", name) == ERROR_EMPTY


def test_a_file_of_empty_rows_is_refused():
    assert refusal(b"\n;;\n \n", "a.csv") == ERROR_EMPTY


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"Nimi;Kaupunki\nOy;Turku\n", "a.xlsx", "Excel (.xlsx)"),
        (b"Nimi;Kaupunki\nOy;Turku\n", "a.xls", "Excel 97-2003 (.xls)"),
        ("ODS", "a.xlsx", "Excel (.xlsx)"),
        ("XLSX", "a.ods", "OpenDocument (.ods)"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(data, name, kind):
    data = {"ODS": lambda: ods([ods_cell("Nimi", valuetype="string")]), "XLSX": lambda: xlsx(["Nimi"])}.get(
        data, lambda: data
    )()

    assert refusal(data, name) == ERROR_NOT_KIND % {"kind": kind}


def read_or_refuse(data: bytes, name: str) -> None:
    """Read every row of the file, or have it refused: anything else raised fails the test."""
    with contextlib.suppress(FileRefused):
        table = read(data, name)
        assert all(isinstance(row, Row) and all(isinstance(cell, str) for cell in row.cells) for row in table.rows)


@pytest.mark.parametrize("name", ["a.csv", "a.xlsx", "a.xls", "a.ods"])
def test_random_bytes_are_refused_or_read_never_crash(name):
    generator = random.Random(name)
    for _attempt in range(25):
        read_or_refuse(generator.randbytes(generator.randint(1, 3000)), name)


@pytest.mark.parametrize("name", ["a.xlsx", "a.ods"])
def test_damaged_spreadsheets_are_refused_or_read_never_crash(name):
    if name.endswith("xlsx"):
        original = xlsx(["Nimi", "Kaupunki"], ["Oy", "Turku"])
    else:
        original = ods([ods_cell("Nimi", valuetype="string")], [ods_cell("Oy", valuetype="string")])
    generator = random.Random(name)
    for _attempt in range(6):
        data = bytearray(original)
        for _byte in range(20):
            data[generator.randrange(30, len(data) - 30)] = generator.randrange(256)
        read_or_refuse(bytes(data), name)
