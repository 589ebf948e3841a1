"""The recording server's daily lists: read once, last four digits only, problems by row number, six months kept."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.utils import timezone

from archive.models import RecordingList
from archive.recordings import recording_lists_read
from crm.models import CallRecording
from privacy.retention.models import PurgeRun
from privacy.retention.purge import purge_run
from tests.factories import CallRecordingFactory, ContactCentreRegisterFactory, OrderingClientFactory

pytestmark = pytest.mark.django_db

HEADER = "recorded_at,seat,caller_last_digits,duration_seconds,ordering_client\n"


@pytest.fixture
def drop(tmp_path, settings):
    settings.ARCHIVE_RECORDING_DROP = tmp_path / "recordings"
    settings.ARCHIVE_RECORDING_DROP.mkdir()
    settings.CALL_RECORDING_RETENTION_MONTHS = 6
    return settings.ARCHIVE_RECORDING_DROP


@pytest.fixture
def department():
    return OrderingClientFactory(department="Kasvatuksen toimiala")


def days_ago(days: int) -> str:
    return (timezone.now() - datetime.timedelta(days=days)).replace(microsecond=0).isoformat()


def write(drop, name: str, text: str):
    path = drop / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_list_is_read_into_recordings_and_moved_to_done(drop, department):
    write(
        drop,
        "2026-11-29.csv",
        HEADER
        + f"{days_ago(1)},HKI-12,+358 40 123 4567,95,{department.code}\n"
        + f"{days_ago(1)},HKI-14,0401234321,,Kasvatuksen toimiala\n",
    )
    summary = recording_lists_read()
    assert (summary.files, summary.imported, summary.refused) == (1, 2, 0)
    recordings = CallRecording.objects.order_by("agent_location_code")
    assert [(r.agent_location_code, r.caller_number_fragment) for r in recordings] == [
        ("HKI-12", "4567"),
        ("HKI-14", "4321"),
    ]
    assert recordings[0].duration == datetime.timedelta(seconds=95)
    assert recordings[1].duration is None
    assert {r.ordering_client for r in recordings} == {department}
    assert {r.register for r in recordings} == {department.register}
    assert not (drop / "2026-11-29.csv").exists()
    assert (drop / "done" / "2026-11-29.csv").exists()
    recording_list = RecordingList.objects.get()
    assert (recording_list.filename, recording_list.imported, recording_list.problems) == ("2026-11-29.csv", 2, [])


def test_a_json_lines_list_is_read_too(drop, department):
    rows = [
        {"recorded_at": days_ago(2), "seat": "ESP-3", "caller_last_digits": "1234", "duration_seconds": 12,
         "ordering_client": str(department.code)},
        {"recorded_at": days_ago(2), "seat": "ESP-4", "caller_last_digits": 98765, "duration_seconds": "7.5",
         "ordering_client": "Kasvatuksen toimiala"},
    ]  # fmt: skip
    write(drop, "list.jsonl", "\n".join(json.dumps(row) for row in rows) + "\n\n")
    summary = recording_lists_read()
    assert summary.imported == 2
    assert set(CallRecording.objects.values_list("caller_number_fragment", flat=True)) == {"1234", "8765"}


def test_rows_with_problems_are_listed_by_number_and_reason_without_their_content(drop, department):
    write(
        drop,
        "bad.csv",
        HEADER
        + f"{days_ago(1)},HKI-1,4567,10,{department.code}\n"  # row 2: fine
        + f"{days_ago(1)},HKI-2,Anonymous,10,{department.code}\n"  # row 3: letters
        + f"2026-11-29T10:00:00,HKI-3,1111,10,{department.code}\n"  # row 4: no offset
        + f"{days_ago(1)},,2222,10,{department.code}\n"  # row 5: no seat
        + f"{days_ago(1)},HKI-5,3333,ten,{department.code}\n"  # row 6: duration
        + f"{days_ago(1)},HKI-6,4444,10,Unknown department\n"  # row 7: department
        + f"{days_ago(1)},HKI-7,,10,{department.code}\n",  # row 8: no digits
    )
    summary = recording_lists_read()
    assert (summary.imported, summary.refused) == (1, 6)
    problems = RecordingList.objects.get().problems
    assert problems == [
        {"row": 3, "reason": "caller_digits"},
        {"row": 4, "reason": "recorded_at"},
        {"row": 5, "reason": "seat"},
        {"row": 6, "reason": "duration"},
        {"row": 7, "reason": "ordering_client"},
        {"row": 8, "reason": "caller_digits"},
    ]
    assert "Anonymous" not in json.dumps(problems)


def test_the_same_file_twice_is_read_once_whatever_its_name(drop, department):
    text = HEADER + f"{days_ago(1)},HKI-12,4567,95,{department.code}\n"
    write(drop, "a.csv", text)
    recording_lists_read()
    write(drop, "a-copy.csv", text)
    summary = recording_lists_read()
    assert (summary.files, summary.already_read, summary.imported) == (1, 1, 0)
    assert CallRecording.objects.count() == 1
    assert RecordingList.objects.count() == 1
    assert (drop / "done" / "a-copy.csv").exists()


def test_a_row_identical_to_a_stored_recording_is_skipped(drop, department):
    when = timezone.now() - datetime.timedelta(days=1)
    CallRecordingFactory(
        ordering_client=department, recorded_at=when, agent_location_code="HKI-12", caller_number_fragment="4567"
    )
    write(
        drop,
        "list.csv",
        HEADER
        + f"{when.isoformat()},HKI-12,4567,95,{department.code}\n"
        + f"{when.isoformat()},HKI-12,4567,95,{department.code}\n"
        f"{when.isoformat()},HKI-13,4567,95,{department.code}\n",
    )
    summary = recording_lists_read()
    assert (summary.imported, summary.skipped) == (1, 2)
    assert CallRecording.objects.count() == 2


def test_a_recording_past_the_retention_period_is_not_imported(drop, department):
    write(
        drop,
        "list.csv",
        HEADER
        + f"{days_ago(200)},HKI-12,4567,95,{department.code}\n"
        + f"{days_ago(20)},HKI-12,4567,95,{department.code}\n",
    )
    summary = recording_lists_read()
    assert (summary.imported, summary.skipped) == (1, 1)
    assert RecordingList.objects.get().skipped == 1


def test_the_existing_purge_destroys_imported_recordings_after_six_months(drop, department, settings):
    # Imported while a longer period was configured, then purged under the six months of seed 004.
    settings.CALL_RECORDING_RETENTION_MONTHS = 12
    write(
        drop,
        "list.csv",
        HEADER
        + f"{days_ago(200)},HKI-12,4567,95,{department.code}\n"
        + f"{days_ago(20)},HKI-13,1234,95,{department.code}\n",
    )
    assert recording_lists_read().imported == 2
    settings.CALL_RECORDING_RETENTION_MONTHS = 6
    purge_run(trigger=PurgeRun.Trigger.COMMAND)
    assert list(CallRecording.objects.values_list("agent_location_code", flat=True)) == ["HKI-13"]


def test_a_department_name_in_two_registers_is_refused_as_ambiguous(drop, department):
    OrderingClientFactory(register=ContactCentreRegisterFactory(), department="Kasvatuksen toimiala")
    write(drop, "list.csv", HEADER + f"{days_ago(1)},HKI-12,4567,95,Kasvatuksen toimiala\n")
    summary = recording_lists_read()
    assert summary.imported == 0
    assert RecordingList.objects.get().problems == [{"row": 2, "reason": "ambiguous_client"}]


def test_a_file_without_the_columns_or_not_utf8_is_recorded_as_a_problem_and_moved(drop):
    write(drop, "columns.csv", "time,seat\n2026-11-29T10:00:00+02:00,HKI-1\n")
    (drop / "binary.csv").write_bytes(b"\xff\xfe\x00garbage")
    summary = recording_lists_read()
    assert summary.imported == 0
    problems = dict(RecordingList.objects.values_list("filename", "problems"))
    assert problems == {"columns.csv": [{"row": 1, "reason": "columns"}], "binary.csv": [{"row": 0, "reason": "file"}]}
    assert sorted(path.name for path in (drop / "done").iterdir()) == ["binary.csv", "columns.csv"]


def test_other_files_and_the_done_folder_are_left_alone(drop, department):
    write(drop, "notes.txt", "not a list")
    write(drop, "partial.csv.part", HEADER)
    (drop / "done").mkdir()
    write(drop / "done", "old.csv", HEADER + f"{days_ago(1)},HKI-12,4567,95,{department.code}\n")
    summary = recording_lists_read()
    assert summary.files == 0
    assert (drop / "notes.txt").exists()
    assert CallRecording.objects.count() == 0


def test_a_semicolon_csv_from_a_spreadsheet_is_read(drop, department):
    write(drop, "excel.csv", HEADER.replace(",", ";") + f"{days_ago(1)};HKI-12;4567;95;{department.code}\n")
    assert recording_lists_read().imported == 1


def test_each_recording_is_audited_as_created(drop, department):
    write(drop, "list.csv", HEADER + f"{days_ago(1)},HKI-12,4567,95,{department.code}\n")
    recording_lists_read()
    recording = CallRecording.objects.get()
    assert LogEntry.objects.get_for_object(recording).filter(action=LogEntry.Action.CREATE).count() == 1


def test_the_command_prints_counts_and_refused_rows(drop, department, capsys):
    write(
        drop,
        "list.csv",
        HEADER + f"{days_ago(1)},HKI-12,4567,95,{department.code}\n" + f"x,HKI-1,1,1,{department.code}\n",
    )
    call_command("archive_recordings")
    captured = capsys.readouterr()
    assert "recordings added 1" in captured.out
    assert "list.csv: row 3: recorded_at" in captured.err
