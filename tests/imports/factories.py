"""Files and tables for import tests: CSV text read by the app's own reader."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from imports.reading import Table, read_table


def csv_text(headers: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def table_from_bytes(content: bytes, file_name: str = "asiakkaat.csv") -> Table:
    return read_table(io.BytesIO(content), file_name=file_name)


def table(headers: list[str], rows: list[list[str]]) -> Table:
    return table_from_bytes(csv_text(headers, rows).encode())


def upload(headers: list[str], rows: list[list[str]], name: str = "asiakkaat.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_text(headers, rows).encode(), content_type="text/csv")
