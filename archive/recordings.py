"""Reading the recording server's daily lists of call recordings from the drop folder (seed 004, issue 17).

The server drops a CSV file (a header row, then a row per recording) or a JSON-lines file (an object per line)
into `settings.ARCHIVE_RECORDING_DROP`, with the keys `recorded_at` (ISO 8601 with a UTC offset), `seat` (the
agent's location code), `caller_last_digits`, `duration_seconds` and `ordering_client` (the client's code or
its department's name). The server should write under another name (`.part`) and rename when done: only
`*.csv` and `*.jsonl` are read. Each file is read once, whatever its name (a `RecordingList` per SHA-256),
its recordings added in one transaction, and it then moves to `done/`: nothing is deleted.

Only the last four digits of a caller's number are kept; a row's problems are recorded by row number and
reason, never with the row's content, which holds a part of a caller's number.
"""

import contextlib
import csv
import dataclasses
import datetime
import decimal
import hashlib
import io
import json
import logging
import re
import uuid
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import CallRecording, OrderingClient
from registers.models import Register

from .models import RecordingList

logger = logging.getLogger(__name__)

COLUMNS = ("recorded_at", "seat", "caller_last_digits", "duration_seconds", "ordering_client")
SUFFIXES = frozenset({".csv", ".jsonl"})
DONE = "done"
SEAT_MAX = 20
DIGITS_KEPT = 4

# Reasons are stored as these keys and worded when shown, in the reader's language.
REASONS = {
    "file": _("The file could not be read: it is not UTF-8 CSV or JSON lines."),
    "columns": _(
        "The file lacks a column: recorded_at, seat, caller_last_digits, duration_seconds and ordering_client "
        "are needed."
    ),
    "not_object": _("The line is not a JSON object."),
    "recorded_at": _("The time is missing or not ISO 8601 with a UTC offset."),
    "seat": _("The seat code is missing or longer than 20 characters."),
    "caller_digits": _("The caller's digits are missing or hold letters."),
    "duration": _("The duration is not a number of seconds."),
    "ordering_client": _("No ordering client of a contact-centre register has this code or department name."),
    "ambiguous_client": _("Ordering clients of several registers have this department name: give its code."),
    "invalid": _("The recording does not pass the archive's checks."),
}

_LETTER = re.compile(r"[^\W\d_]")


def problem_reason(code) -> str:
    """Return the worded reason of a stored problem key."""
    return str(REASONS.get(code, REASONS["invalid"]))


class RowRefusedError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass
class ReadSummary:
    files: int = 0
    already_read: int = 0
    imported: int = 0
    skipped: int = 0
    refused: int = 0
    lists: list[RecordingList] = dataclasses.field(default_factory=list)


def _rows(data: bytes, suffix: str):
    """Yield (row number, dict) of the file; raise RowRefusedError("file"/"columns") when it cannot be read at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RowRefusedError("file") from None
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            yield number, row if isinstance(row, dict) else None
        return
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        if reader.fieldnames is None or not set(COLUMNS) <= {name.strip() for name in reader.fieldnames}:
            raise RowRefusedError("columns")
        reader.fieldnames = [name.strip() for name in reader.fieldnames]
        # The header is row 1, as a spreadsheet numbers it.
        for row in reader:
            yield reader.line_num, row
    except csv.Error:
        raise RowRefusedError("file") from None


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _recorded_at(row: dict) -> datetime.datetime:
    try:
        value = datetime.datetime.fromisoformat(_text(row, "recorded_at"))
    except ValueError:
        raise RowRefusedError("recorded_at") from None
    if value.tzinfo is None:
        raise RowRefusedError("recorded_at")
    return value


def _seat(row: dict) -> str:
    seat = _text(row, "seat")
    if not seat or len(seat) > SEAT_MAX:
        raise RowRefusedError("seat")
    return seat


def _caller_digits(row: dict) -> str:
    value = _text(row, "caller_last_digits")
    # A letter means the column holds something other than a number (a name, "anonymous"): nothing is kept.
    if _LETTER.search(value):
        raise RowRefusedError("caller_digits")
    digits = re.sub(r"\D", "", value)
    if not digits:
        raise RowRefusedError("caller_digits")
    return digits[-DIGITS_KEPT:]


def _duration(row: dict) -> datetime.timedelta | None:
    value = _text(row, "duration_seconds")
    if not value:
        return None
    try:
        seconds = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise RowRefusedError("duration") from None
    if not seconds.is_finite() or seconds < 0 or seconds > 7 * 24 * 3600:
        raise RowRefusedError("duration")
    return datetime.timedelta(seconds=float(seconds))


class _Clients:
    """Ordering clients of contact-centre registers by code or department name, each looked up once per file."""

    def __init__(self):
        self.found: dict[str, OrderingClient] = {}

    def get(self, row: dict) -> OrderingClient:
        key = _text(row, "ordering_client")
        if not key:
            raise RowRefusedError("ordering_client")
        if key not in self.found:
            self.found[key] = self._look_up(key)
        return self.found[key]

    @staticmethod
    def _look_up(key: str) -> OrderingClient:
        clients = OrderingClient.objects.filter(register__kind=Register.Kind.CONTACT_CENTRE).select_related("register")
        try:
            by_code = clients.filter(code=uuid.UUID(key)).first()
        except ValueError:
            by_code = None
        if by_code is not None:
            return by_code
        named = list(clients.filter(department=key)[:2])
        if len(named) > 1:
            raise RowRefusedError("ambiguous_client")
        if not named:
            raise RowRefusedError("ordering_client")
        return named[0]


def _recording(row: dict | None, clients: _Clients) -> CallRecording:
    if row is None:
        raise RowRefusedError("not_object")
    client = clients.get(row)
    recording = CallRecording(
        register=client.register,
        ordering_client=client,
        recorded_at=_recorded_at(row),
        agent_location_code=_seat(row),
        caller_number_fragment=_caller_digits(row),
        duration=_duration(row),
    )
    try:
        # The client and its register were read just now; the model's own checks cover the rest.
        recording.full_clean(exclude=["register", "ordering_client"])
    except ValidationError:
        raise RowRefusedError("invalid") from None
    return recording


def _identity(recording: CallRecording) -> tuple:
    return (
        recording.ordering_client_id,
        recording.recorded_at,
        recording.agent_location_code,
        recording.caller_number_fragment,
    )


def _existing(recordings: list[CallRecording]) -> set[tuple]:
    """Return the identities of recordings already in the archive among the file's clients and times (one query)."""
    if not recordings:
        return set()
    times = [recording.recorded_at for recording in recordings]
    found = CallRecording.objects.filter(
        ordering_client__in={recording.ordering_client_id for recording in recordings},
        recorded_at__gte=min(times),
        recorded_at__lte=max(times),
    ).values_list("ordering_client_id", "recorded_at", "agent_location_code", "caller_number_fragment")
    return set(found)


def _read(data: bytes, suffix: str) -> tuple[list[CallRecording], list[dict], int]:
    """Return the file's new recordings, its refused rows and the number of rows skipped."""
    clients = _Clients()
    cutoff = timezone.now() - relativedelta(months=settings.CALL_RECORDING_RETENTION_MONTHS)
    accepted, problems, skipped = [], [], 0
    try:
        for number, row in _rows(data, suffix):
            try:
                recording = _recording(row, clients)
            except RowRefusedError as refused:
                problems.append({"row": number, "reason": refused.reason})
                continue
            # Past the six months the purge would destroy it at its next run: it never enters.
            if recording.recorded_at < cutoff:
                skipped += 1
                continue
            accepted.append(recording)
    except RowRefusedError as refused:
        problems.append({"row": 1 if refused.reason == "columns" else 0, "reason": refused.reason})
    seen = _existing(accepted)
    new = []
    for recording in accepted:
        identity = _identity(recording)
        if identity in seen:
            skipped += 1
            continue
        seen.add(identity)
        new.append(recording)
    return new, problems, skipped


def _move_to_done(path: Path, sha: str) -> None:
    done = path.parent / DONE
    done.mkdir(exist_ok=True)
    target = done / path.name
    if target.exists():
        target = done / f"{path.stem}-{sha[:12]}{path.suffix}"
    # FileNotFoundError: another reader moved it first.
    with contextlib.suppress(FileNotFoundError):
        path.rename(target)


def recording_list_read(path: Path) -> tuple[RecordingList, bool]:
    """Read one dropped file into the archive and move it to done/; return its list and whether it was new."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    existing = RecordingList.objects.filter(sha256=sha).first()
    if existing is None:
        new, problems, skipped = _read(data, path.suffix.lower())
        try:
            with transaction.atomic():
                # The list first: a second reader of the same file waits on its unique SHA-256 and then fails.
                existing = RecordingList.objects.create(
                    sha256=sha, filename=path.name[:255], imported=len(new), skipped=skipped, problems=problems
                )
                for recording in new:
                    recording.save()
        except IntegrityError:
            existing = RecordingList.objects.filter(sha256=sha).first()
            if existing is None:
                raise
        else:
            _move_to_done(path, sha)
            return existing, True
    _move_to_done(path, sha)
    return existing, False


def recording_lists_read(*, drop: Path | None = None) -> ReadSummary:
    """Read every recording list waiting in the drop folder (not its done/ folder)."""
    drop = Path(drop or settings.ARCHIVE_RECORDING_DROP)
    summary = ReadSummary()
    if not drop.is_dir():
        logger.warning("The recording drop folder %s does not exist.", drop)
        return summary
    for path in sorted(drop.iterdir()):
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        recording_list, new = recording_list_read(path)
        summary.files += 1
        if not new:
            summary.already_read += 1
            continue
        summary.lists.append(recording_list)
        summary.imported += recording_list.imported
        summary.skipped += recording_list.skipped
        summary.refused += len(recording_list.problems)
    return summary
