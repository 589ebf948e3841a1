"""Read a customer file (CSV, Excel or OpenDocument) into a header row and rows of cell text.

Every cell comes out as stripped text, so the importer parses one kind of value whatever the file was:
spreadsheet dates as ISO `yyyy-mm-dd` (with ` hh:mm[:ss]` for a date and time), whole numbers without
".0", booleans as TRUE/FALSE, formula cells as the value the spreadsheet program last calculated (never
as "=..." text, never evaluated here). A CSV cell is the text as written: `1.3.2024` stays as it is.

The file is copied into an anonymous temporary file first, so the rows can be read after the caller has
closed the upload, and read twice: once here, to refuse a file that cannot be imported before anything
starts, and once lazily as the importer walks the rows.

A spreadsheet is opened by calamine in a child process with a memory and time limit. A 5 kB .xlsx or
.ods can name a cell at XFD1048576, or repeat one cell over millions of rows, and calamine allocates the
whole rectangle: the allocation failure aborts the process (a Rust abort, not a Python exception). In a
child, that is a refused file; in a web or Celery worker, it would be a dead worker.
"""

import codecs
import contextlib
import csv
import datetime
import hashlib
import io
import json
import os
import subprocess  # nosec B404: only this module, run with a fixed argv and no shell (below)
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from registers.spreadsheet import spreadsheet_text

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000

# The child that reads a spreadsheet: enough memory for MAX_ROWS rows of a few dozen columns, and time
# for the largest file allowed; a file past either is refused as one that cannot be read.
SHEET_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
SHEET_SECONDS = 180

KINDS = {"csv": "CSV", "xlsx": "Excel (.xlsx)", "xls": "Excel 97-2003 (.xls)", "ods": "OpenDocument (.ods)"}
CSV_DELIMITERS = ";,\t"
CSV_SAMPLE_CHARS = 16 * 1024
_CHUNK = 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_EXIT_TOO_MANY_ROWS = 3
_EXIT_UNREADABLE = 4

ERROR_TOO_LARGE = _("The file is larger than %(limit)s MB. Split it into smaller files.")
ERROR_TOO_MANY_ROWS = _("The file has more than %(limit)s rows. Split it into smaller files.")
ERROR_UNKNOWN_KIND = _("Only CSV (.csv), Excel (.xlsx, .xls) and OpenDocument (.ods) files can be imported.")
ERROR_NOT_KIND = _("The file is not in the %(kind)s format its name says. Save it again in that format, or as CSV.")
ERROR_NOT_TEXT = _("The file is not a text file of separated values. Save it again as CSV.")
ERROR_EMPTY = _("The file has no rows to import.")
ERROR_UNREADABLE = _(
    "The file could not be read: it may be damaged, protected with a password, or too large to process. "
    "Save it again, or as CSV."
)
ERROR_CSV_ROW = _(
    "Row %(row)s of the file could not be read: check its quotation marks, and that no cell is very long."
)


class FileRefused(ValidationError):  # noqa: N818 - the importer's interface names it so
    """A file that cannot be imported at all; the message says why, for the person who chose it."""


@dataclass(frozen=True)
class Row:
    number: int  # the row number the user sees in the file (a CSV record spanning lines is one row)
    cells: tuple[str, ...]  # every cell as text, stripped; at least as many cells as the table has headers


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[Row]
    file_name: str
    checksum: str
    kind: str


def read_table(file, *, file_name: str) -> Table:
    """Read the header row of a customer file and return it with a lazy iterator over the data rows."""
    kind = Path(file_name).suffix.lower().lstrip(".")
    if kind not in KINDS:
        raise FileRefused(ERROR_UNKNOWN_KIND, code="unknown_kind")
    copy, checksum, sniff = _copy(file, kind=kind)
    try:
        if kind == "csv":
            dialect = _csv_dialect(copy, sniff)
            headers, header_number, width = _preflight(_csv_rows(copy, dialect))
            rows = _csv_rows(copy, dialect)
        else:
            _check_spreadsheet_kind(copy, kind=kind)
            output = _sheet_rows_file(copy)
            copy.close()
            copy = output
            headers, header_number, width = _preflight(_json_rows(copy))
            rows = _json_rows(copy)
    except BaseException:
        copy.close()
        raise
    return Table(
        headers=headers,
        rows=_data_rows(rows, header_number=header_number, width=width, file=copy),
        file_name=file_name,
        checksum=checksum,
        kind=kind,
    )


# --- Bytes ------------------------------------------------------------------------------------------


@dataclass
class _Sniff:
    encoding: str
    has_nul: bool


def _copy(file, *, kind: str) -> tuple[IO[bytes], str, _Sniff]:
    """Copy the file into a temporary file, hashing it, counting its bytes and finding a CSV's encoding."""
    digest, size, head, has_nul = hashlib.sha256(), 0, b"", False
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ("utf-8", "cp1252")}
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the rows iterator, or below on refusal
    try:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            file.seek(0)
        while chunk := file.read(_CHUNK):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise FileRefused(ERROR_TOO_LARGE, code="too_large", params={"limit": MAX_FILE_BYTES // 1024 // 1024})
            digest.update(chunk)
            copy.write(chunk)
            if kind == "csv":
                head = head if len(head) >= 4 else (head + chunk)[:4]
                has_nul = has_nul or b"\x00" in chunk
                _decode(decoders, chunk, final=False)
        if size == 0:
            raise FileRefused(ERROR_EMPTY, code="empty")
        _decode(decoders, b"", final=True)
        copy.seek(0)
    except BaseException:
        copy.close()
        raise
    return copy, digest.hexdigest(), _Sniff(encoding=_encoding(head, set(decoders)), has_nul=has_nul)


def _decode(decoders: dict, chunk: bytes, *, final: bool) -> None:
    """Feed the chunk to each candidate decoder, dropping those it proves wrong."""
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            del decoders[name]


def _encoding(head: bytes, decodes: set[str]) -> str:
    # Excel saves "CSV UTF-8" with a BOM, plain "CSV" in the Windows code page (cp1252 in Finland and
    # Sweden) and "Unicode text" as UTF-16 with a BOM. Latin-1 reads the few bytes cp1252 leaves undefined.
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if "utf-8" in decodes:
        return "utf-8"
    return "cp1252" if "cp1252" in decodes else "latin-1"


# --- CSV --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dialect:
    encoding: str
    delimiter: str


def _csv_dialect(copy: IO[bytes], sniff: _Sniff) -> _Dialect:
    if sniff.has_nul and sniff.encoding != "utf-16":
        raise FileRefused(ERROR_NOT_TEXT, code="not_text")
    copy.seek(0)
    text = copy.read(CSV_SAMPLE_CHARS * 4).decode(sniff.encoding, errors="replace")[:CSV_SAMPLE_CHARS]
    copy.seek(0)
    return _Dialect(encoding=sniff.encoding, delimiter=_delimiter(text.lstrip("\ufeff")))


def _delimiter(sample: str) -> str:
    """Return the delimiter: what csv.Sniffer says, if the header line has it, else the header line's commonest."""
    header = next((line for line in sample.splitlines() if line.strip()), "")
    counts = _count_unquoted(header)
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in counts and (counts[sniffed] or not any(counts.values())):
        return sniffed
    if any(counts.values()):
        return max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    # One column: a delimiter seen nowhere in the sample keeps each line whole.
    return next((d for d in CSV_DELIMITERS if d not in sample), ";")


def _count_unquoted(line: str) -> dict[str, int]:
    counts, quoted = dict.fromkeys(CSV_DELIMITERS, 0), False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return counts


def _csv_rows(copy: IO[bytes], dialect: _Dialect) -> Iterator[Row]:
    # A duplicate descriptor, so that closing this text view leaves the copy open for the next pass.
    descriptor = os.dup(copy.fileno())
    os.lseek(descriptor, 0, os.SEEK_SET)
    number = 0
    with open(descriptor, encoding=dialect.encoding, newline="") as text:
        try:
            for number, record in enumerate(csv.reader(text, delimiter=dialect.delimiter), start=1):
                yield Row(number=number, cells=tuple(spreadsheet_text(cell.strip()) for cell in record))
        except (csv.Error, UnicodeDecodeError) as error:
            raise FileRefused(ERROR_CSV_ROW, code="bad_row", params={"row": number + 1}) from error


# --- Spreadsheets -----------------------------------------------------------------------------------


def _check_spreadsheet_kind(copy: IO[bytes], *, kind: str) -> None:
    """Refuse a file that is not what its extension says; calamine would read an .ods named .xlsx."""
    copy.seek(0)
    head = copy.read(len(_OLE_MAGIC))
    copy.seek(0)
    if kind == "xls":
        matches = head == _OLE_MAGIC
    elif not zipfile.is_zipfile(copy):
        matches = False
    else:
        try:
            with zipfile.ZipFile(copy) as archive:
                names = set(archive.namelist())
                if kind == "xlsx":
                    matches = "xl/workbook.xml" in names
                else:
                    matches = "mimetype" in names and archive.read("mimetype").strip() == _ODS_MIMETYPE
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, KeyError):
            matches = False
    copy.seek(0)
    if not matches:
        raise FileRefused(ERROR_NOT_KIND, code="not_kind", params={"kind": KINDS[kind]})


def _sheet_rows_file(copy: IO[bytes]) -> IO[bytes]:
    """Return a temporary file of the first sheet's non-empty rows as JSON lines, written by a child process."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the rows iterator, or below on refusal
    # The child reads the descriptor itself: a buffered seek(0) inside the read buffer would not move it.
    copy.flush()
    os.lseek(copy.fileno(), 0, os.SEEK_SET)
    try:
        process = subprocess.run(  # nosec B603: a fixed argv (this interpreter, this module); the file goes on stdin
            [sys.executable, "-m", "imports.reading"],
            stdin=copy,
            stdout=output,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "RUST_BACKTRACE": "0"},
            timeout=SHEET_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        output.close()
        raise FileRefused(ERROR_UNREADABLE, code="unreadable") from error
    except BaseException:
        output.close()
        raise
    if process.returncode == _EXIT_TOO_MANY_ROWS:
        output.close()
        raise FileRefused(ERROR_TOO_MANY_ROWS, code="too_many_rows", params={"limit": MAX_ROWS})
    if process.returncode != 0:
        output.close()
        raise FileRefused(ERROR_UNREADABLE, code="unreadable")
    output.seek(0)
    return output


def _json_rows(output: IO[bytes]) -> Iterator[Row]:
    output.seek(0)
    for line in output:
        number, cells = json.loads(line)
        yield Row(number=number, cells=tuple(cells))


def cell_text(value) -> str:
    """Return a spreadsheet cell's value as the text the importer parses."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Spreadsheets store every number as a float: 100 is 100.0, a phone number 358401234567.0.
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.second or value.microsecond:
            return value.isoformat(sep=" ", timespec="seconds")
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return spreadsheet_text(str(value).strip())


def _write_sheet(source: IO[bytes], out: IO[str]) -> int:
    """Write the first visible worksheet's non-empty rows as JSON lines; return the process exit status."""
    # Only the child process loads calamine.
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(source)
        visible = [
            index
            for index, sheet in enumerate(workbook.sheets_metadata)
            if sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
            and sheet.visible == python_calamine.SheetVisibleEnum.Visible
        ]
        sheet = workbook.get_sheet_by_index(visible[0] if visible else 0)
        count = 0
        # calamine's rows start at the sheet's first row; their columns at its first used column.
        for index, values in enumerate(sheet.iter_rows()):
            cells = [cell_text(value) for value in values]
            if not any(cells):
                continue
            count += 1
            if count > MAX_ROWS + 1:  # the header row and MAX_ROWS rows of data
                return _EXIT_TOO_MANY_ROWS
            out.write(json.dumps([index + 1, cells], ensure_ascii=False) + "\n")
    except Exception:  # every failure of an untrusted file means the same: it cannot be read
        return _EXIT_UNREADABLE
    return 0


def _limit_child() -> None:
    import resource  # POSIX only, and only the child needs it

    resource.setrlimit(resource.RLIMIT_AS, (SHEET_MEMORY_BYTES, SHEET_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (SHEET_SECONDS, SHEET_SECONDS))


# --- Both -------------------------------------------------------------------------------------------


def _preflight(rows: Iterator[Row]) -> tuple[list[str], int, int]:
    """Read every row once: find the header row, count the data rows, and refuse what cannot be read."""
    headers: list[str] | None = None
    header_number = count = 0
    for row in rows:
        if not any(row.cells):
            continue
        if headers is None:
            headers, header_number = list(row.cells), row.number
            continue
        count += 1
        if count > MAX_ROWS:
            raise FileRefused(ERROR_TOO_MANY_ROWS, code="too_many_rows", params={"limit": MAX_ROWS})
    if headers is None:
        raise FileRefused(ERROR_EMPTY, code="empty")
    # Trailing header cells are empty when the sheet is wider than its table.
    while headers and not headers[-1]:
        headers.pop()
    return headers, header_number, len(headers)


def _data_rows(rows: Iterator[Row], *, header_number: int, width: int, file: IO[bytes]) -> Iterator[Row]:
    try:
        for row in rows:
            if row.number <= header_number or not any(row.cells):
                continue
            cells = row.cells
            if len(cells) < width:
                cells = cells + ("",) * (width - len(cells))
            elif len(cells) > width and not any(cells[width:]):
                cells = cells[:width]
            yield Row(number=row.number, cells=cells)
    finally:
        file.close()


if __name__ == "__main__":
    _limit_child()
    with open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False) as stdout:
        status = _write_sheet(io.BytesIO(sys.stdin.buffer.read()), stdout)
    sys.exit(status)
