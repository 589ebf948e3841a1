"""The preview of a batch runs once, in the background, and is kept: the pages read it, a new mapping replaces it."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from imports import services
from imports.models import ImportBatch, ImportEvent
from imports.plan import ChunkPlanner

from .factories import upload
from .helpers import HEADERS, MAPPING, business_id, committed_batch, english, organisation_rows, previewed_batch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]

State = ImportBatch.State
BROKEN_ROW = ["Rikki Oy", business_id(7), "ei-osoite", "Kemi"]
MAPPING_POST = {"column_0": "organisation_name", "column_1": "business_id", "column_2": "email", "match_mode": "skip"}


def url(name, batch):
    return reverse(f"imports:{name}", kwargs={"register": batch.register.slug, "code": batch.code})


def uploaded(actor, register, rows):
    return services.import_batch_create(
        actor=actor, register=register, file=upload(HEADERS, rows), file_name="asiakkaat.csv"
    )


def started(actor, batch, mapping=MAPPING):
    return services.import_preview_start(actor=actor, batch=batch, mapping=mapping, match_mode="skip")


def run(batch, token=None, language="en"):
    return services.import_preview_run(batch_id=batch.pk, token=str(token or batch.preview_token), language=language)


def test_the_mapping_post_previews_once_and_the_pages_read_what_was_kept(
    client, handler_a, register_a, monkeypatch, django_capture_on_commit_callbacks
):
    batch = uploaded(handler_a, register_a, [*organisation_rows(2), BROKEN_ROW])
    client.force_login(handler_a)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url("batch-mapping", batch), MAPPING_POST)

    assert len(callbacks) == 1  # one preview task queued
    assert response["Location"] == url("batch-preview", batch)
    batch.refresh_from_db()
    assert (batch.state, batch.rows, batch.created, batch.invalid, batch.rejected) == (State.PREVIEWED, 3, 2, 1, 1)
    assert batch.preview_errors == [[4, "Sähköposti", "Enter a valid email address."]]

    def no_second_run(*args, **kwargs):
        raise AssertionError("the preview ran again")

    monkeypatch.setattr(ChunkPlanner, "plan", no_second_run)
    page = client.get(url("batch-preview", batch))
    rejected = client.get(url("batch-rejected-csv", batch))

    assert "Row 4, column “Sähköposti”: Enter a valid email address." in page.content.decode()
    assert "Import 2 customers" in page.content.decode()
    lines = b"".join(rejected.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[1].startswith("Rikki Oy;")
    assert len(lines) == 2


def test_a_new_mapping_replaces_a_preview_that_has_not_run(handler_a, register_a):
    batch = uploaded(handler_a, register_a, organisation_rows(3))
    first = started(handler_a, batch).preview_token
    started(handler_a, batch, mapping={0: "organisation_name"})

    stale = run(batch, token=first)

    assert (stale.state, stale.previewed_at) == (State.PREVIEWING, None)
    batch = run(batch)
    assert (batch.state, batch.created) == (State.PREVIEWED, 3)
    assert batch.mapping == {"0": "organisation_name"}
    assert list(batch.events.values_list("new", flat=True)) == [
        State.PREVIEWED, State.PREVIEWING, State.PREVIEWING, State.PREVIEWED,
    ]  # fmt: skip


def test_a_preview_replaced_while_it_runs_stops_and_keeps_nothing(handler_a, register_a, monkeypatch):
    monkeypatch.setattr(services, "PREVIEW_CHUNK", 2)
    batch = uploaded(handler_a, register_a, [BROKEN_ROW, *organisation_rows(5)])
    started(handler_a, batch)
    plan = ChunkPlanner.plan

    def replaced_after_the_first_chunk(self, rows, **kwargs):
        # What a second mapping POST does to the batch while this run reads its file.
        ImportBatch.objects.filter(pk=batch.pk).update(preview_token=uuid.uuid4())
        return plan(self, rows, **kwargs)

    monkeypatch.setattr(ChunkPlanner, "plan", replaced_after_the_first_chunk)
    result = run(batch)

    assert (result.state, result.previewed_at, result.rows, result.invalid) == (State.PREVIEWING, None, 0, 0)
    assert not result.rejected_file


def test_the_progress_polls_while_previewing_and_sends_the_page_to_the_result(client, handler_a, register_a):
    batch = started(handler_a, uploaded(handler_a, register_a, organisation_rows(2)))
    client.force_login(handler_a)

    polling = client.get(url("batch-progress", batch), headers={"HX-Request": "true"}).content.decode()
    preview_page = client.get(url("batch-preview", batch)).content.decode()
    run(batch)
    done = client.get(url("batch-progress", batch), headers={"HX-Request": "true"})

    assert f'hx-get="{url("batch-progress", batch)}"' in polling
    assert "0 rows checked." in polling
    assert 'id="batch-progress"' in preview_page
    assert "Import 2 customers" not in preview_page
    assert (done.status_code, done["HX-Redirect"]) == (204, url("batch-preview", batch))


def test_a_batch_starts_only_once_its_preview_is_kept(handler_a, register_a):
    batch = started(handler_a, uploaded(handler_a, register_a, organisation_rows(2)))

    with pytest.raises(ValidationError, match="from “previewing” to “queued”"):
        services.import_start(actor=handler_a, batch=batch)
    batch.file.storage.delete(batch.file.name)
    batch = run(batch)
    with pytest.raises(ValidationError, match=str(services.ERROR_NOT_PREVIEWED)):
        services.import_start(actor=handler_a, batch=batch)


def test_a_preview_whose_file_is_gone_sends_the_user_back_to_the_mapping_with_the_reason(client, handler_a, register_a):
    batch = started(handler_a, uploaded(handler_a, register_a, organisation_rows(2)))
    batch.file.storage.delete(batch.file.name)

    batch = run(batch)
    client.force_login(handler_a)
    response = client.get(url("batch-preview", batch))

    assert (batch.state, batch.previewed_at) == (State.PREVIEWED, None)
    assert batch.events.last().note == ImportEvent.Note.FILE_MISSING
    assert response["Location"] == url("batch-mapping", batch)
    page = client.get(url("batch-preview", batch), follow=True)  # the mapping page then asks for a new upload
    assert "The preview could not be finished: the stored file is missing. Choose the columns again." in [
        str(message) for message in page.context["messages"]
    ]


def test_the_errors_are_worded_in_the_language_of_whoever_asked_for_the_preview(handler_a, register_a):
    batch = started(handler_a, uploaded(handler_a, register_a, [BROKEN_ROW]))

    batch = run(batch, language="sv")

    assert batch.preview_errors == [[2, "Sähköposti", "Fyll i en giltig e-postadress."]]
    assert "Fyll i en giltig e-postadress." in batch.rejected_file.open("rb").read().decode("utf-8-sig")


def test_the_commit_drops_the_kept_errors_and_the_rejected_rows_file(handler_a, register_a):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=[*organisation_rows(1), BROKEN_ROW])
    assert batch.rejected_file
    assert batch.preview_errors

    batch = committed_batch(actor=handler_a, register=register_a, rows=[*organisation_rows(1, start=5), BROKEN_ROW])

    assert (batch.state, batch.preview_errors, batch.rejected_file.name) == (State.DONE, [], "")
    assert batch.invalid == 1  # the counts stay: they are numbers, not the file's cells


def test_cancelling_a_running_preview_keeps_nothing(handler_a, register_a):
    batch = started(handler_a, uploaded(handler_a, register_a, organisation_rows(2)))

    services.import_cancel(actor=handler_a, batch=batch)
    result = run(batch)

    assert (result.state, result.previewed_at) == (State.CANCELLED, None)
