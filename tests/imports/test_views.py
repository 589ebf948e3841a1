"""The import screens through the test client: who may open them, the journey with a CSV, and bad input."""

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from crm.services import customer_update
from imports import services
from imports.models import ImportBatch
from imports.reading import ERROR_EMPTY, ERROR_NOT_KIND, ERROR_UNKNOWN_KIND
from registers.models import Role

from ..conftest import grant
from ..factories import CustomerFactory
from .factories import upload
from .helpers import HEADERS, business_id, committed_batch, english, organisation_rows, previewed_batch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # Pages in English, as the assertions are written.
    settings.LANGUAGE_CODE = "en"


def signed_in(client, user):
    client.force_login(user)
    return client


def url(name, register, batch=None):
    kwargs = {"register": register.slug}
    if batch is not None:
        kwargs["code"] = batch.code
    return reverse(f"imports:{name}", kwargs=kwargs)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Who may open the screens.


@pytest.mark.parametrize("persona", ["owner_a", "handler_a"])
def test_owners_and_handlers_see_the_import_history_and_the_upload_form(client, request, register_a, persona):
    user = request.getfixturevalue(persona)
    batch = committed_batch(actor=user, register=register_a, rows=organisation_rows(2))

    response = signed_in(client, user).get(url("batch-list", register_a))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page
    assert batch.file_name in page
    assert url("batch-undo", register_a, batch) in page


def test_staff_of_the_register_get_403_on_every_screen(client, staff_a, handler_a, register_a):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(1))
    signed_in(client, staff_a)

    assert client.get(url("batch-list", register_a)).status_code == 403
    for name in ("batch-detail", "batch-mapping", "batch-preview", "batch-rejected-csv", "batch-progress"):
        assert client.get(url(name, register_a, batch)).status_code == 403, name
    for name in ("batch-start", "batch-cancel", "batch-undo", "batch-mapping"):
        assert client.post(url(name, register_a, batch)).status_code == 403, name
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.PREVIEWED


def test_read_only_roles_get_403(client, readonly_a, register_a):
    assert signed_in(client, readonly_a).get(url("batch-list", register_a)).status_code == 403


def test_it_returns_404_for_another_register_and_its_batches(client, staff_b, handler_a, register_a, register_b):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(1))
    signed_in(client, staff_b)

    assert client.get(url("batch-list", register_a)).status_code == 404
    assert client.post(url("batch-start", register_a, batch)).status_code == 404


def test_a_batch_of_another_register_is_404_even_for_its_handler(client, handler_a, register_a, register_b):
    grant(handler_a, register_b, Role.HANDLER)
    batch = previewed_batch(actor=handler_a, register=register_b, rows=organisation_rows(1))
    wrong = reverse("imports:batch-detail", kwargs={"register": register_a.slug, "code": batch.code})

    assert signed_in(client, handler_a).get(wrong).status_code == 404
    assert (
        client.get(reverse("imports:batch-detail", kwargs={"register": "a", "code": uuid.uuid4()})).status_code == 404
    )


def test_anonymous_visitors_are_sent_to_sign_in(client, register_a):
    response = client.get(url("batch-list", register_a))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# The journey.


def test_the_whole_journey_with_a_csv(client, handler_a, register_a, django_capture_on_commit_callbacks):
    CustomerFactory(register=register_a, business_id=business_id(1), organisation_name="Vanha Oy", city="")
    rows = [*organisation_rows(3), ["Rikki Oy", business_id(7), "ei-osoite", "Kemi"]]
    signed_in(client, handler_a)

    response = client.post(url("batch-list", register_a), {"file": upload(HEADERS, rows)})
    batch = ImportBatch.objects.get(register=register_a)
    assert response["Location"] == url("batch-mapping", register_a, batch)

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    # The suggested mapping is preselected and the first values are shown beside the columns.
    assert '<option value="business_id" selected>' in html
    assert "info0@yritys0.example.fi" in html
    assert "Rikki Oy" not in html  # the fourth row is not a sample

    # The preview task runs (eagerly) once the mapping's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("batch-mapping", register_a, batch),
            {"column_0": "organisation_name", "column_1": "business_id", "column_2": "email", "column_3": "city",
             "match_mode": "fill_empty"},
        )  # fmt: skip
    assert response["Location"] == url("batch-preview", register_a, batch)

    preview = client.get(response["Location"])
    html = preview.content.decode()
    counts = preview.context["batch"]
    assert (counts.created, counts.updated, counts.invalid) == (2, 1, 1)
    assert "Row 5, column “Sähköposti”" in html
    assert "Import 3 customers" in html
    assert url("batch-rejected-csv", register_a, batch) in html

    # The task runs (eagerly) once the request's transaction commits: here, when the block ends.
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url("batch-start", register_a, batch))
    assert started["Location"] == url("batch-detail", register_a, batch)
    response = client.get(started["Location"])
    assert "The import has started." in messages_of(response)
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.DONE
    assert (batch.created, batch.updated, batch.invalid) == (2, 1, 1)
    html = response.content.decode()
    assert 'value="100"' in html  # the progress bar is full
    assert "hx-get" not in html  # and no longer polls
    assert reverse("crm:customer-list", kwargs={"register": register_a.slug}) in html
    # The updated customer says so too.
    assert Customer.objects.filter(register=register_a, source="imported").count() == 3

    partial = client.get(url("batch-progress", register_a, batch), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()

    confirm = client.get(url("batch-undo", register_a, batch))
    assert "2 customers the import created are deleted." in confirm.content.decode()
    response = client.post(url("batch-undo", register_a, batch), follow=True)
    assert "The import was undone: 2 customers deleted, 1 restored, 0 kept." in messages_of(response)
    assert list(Customer.objects.filter(register=register_a).values_list("organisation_name", flat=True)) == [
        "Vanha Oy"
    ]


def test_the_progress_partial_polls_while_the_batch_runs(client, handler_a, register_a):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(2))
    services.import_transition(batch=batch, to=ImportBatch.State.QUEUED, actor=handler_a)

    response = signed_in(client, handler_a).get(
        url("batch-progress", register_a, batch), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert f'hx-get="{url("batch-progress", register_a, batch)}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert f'href="{url("batch-detail", register_a, batch)}"' in html  # the refresh link without JavaScript
    # Opened by itself (no htmx), the partial's address leads to the batch's whole page.
    plain = client.get(url("batch-progress", register_a, batch))
    assert plain.status_code == 302
    assert plain["Location"] == url("batch-detail", register_a, batch)


def test_the_rejected_rows_csv_has_the_rows_and_an_error_column(client, handler_a, register_a):
    rows = [*organisation_rows(1), ["Rikki Oy", business_id(7), "ei-osoite", "Kemi"], ["", "", "", "Oulu"]]
    batch = previewed_batch(actor=handler_a, register=register_a, rows=rows)

    response = signed_in(client, handler_a).get(url("batch-rejected-csv", register_a, batch))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="rejected-rows.csv"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Nimi;Y-tunnus;Sähköposti;Kaupunki;error"
    assert lines[1].startswith(f"Rikki Oy;{business_id(7)};ei-osoite;Kemi;Row 3, column “Sähköposti”:")
    assert lines[2].startswith(";;;Oulu;Row 4")
    assert len(lines) == 3


def test_cancel_drops_a_previewed_batch(client, handler_a, register_a):
    batch = previewed_batch(actor=handler_a, register=register_a, rows=organisation_rows(1))

    response = signed_in(client, handler_a).post(url("batch-cancel", register_a, batch), follow=True)

    assert "The import was cancelled and its file deleted." in messages_of(response)
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.CANCELLED
    assert not batch.file


# Bad input never gives a 500.


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("asiakkaat.exe", b"MZ\x90\x00", ERROR_UNKNOWN_KIND),
        ("asiakkaat.xlsx", b"PK\x03\x04" + b"\x00" * 200, (ERROR_NOT_KIND, {"kind": "Excel (.xlsx)"})),
        ("asiakkaat.ods", b"\x00" * 300, (ERROR_NOT_KIND, {"kind": "OpenDocument (.ods)"})),
        ("asiakkaat.csv", b"\n ; \n\n", ERROR_EMPTY),
    ],
)
def test_a_garbage_upload_is_refused_on_the_form_and_nothing_is_stored(
    client, handler_a, register_a, name, content, message
):
    response = signed_in(client, handler_a).post(
        url("batch-list", register_a), {"file": SimpleUploadedFile(name, content)}
    )

    if isinstance(message, tuple):
        message = message[0] % message[1]
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [str(message)]
    assert str(message) in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_the_limit(client, handler_a, register_a, monkeypatch):
    monkeypatch.setattr("imports.forms.MAX_FILE_BYTES", 1024 * 1024)
    big = SimpleUploadedFile("asiakkaat.csv", b"Nimi\n" + b"x\n" * (600 * 1024))

    response = signed_in(client, handler_a).post(url("batch-list", register_a), {"file": big})

    assert response.context["form"].errors["file"] == ["The file is larger than 1 MB. Split it into smaller files."]
    assert not ImportBatch.objects.exists()


def test_an_empty_upload_post_asks_for_a_file(client, handler_a, register_a):
    response = signed_in(client, handler_a).post(url("batch-list", register_a), {})

    assert response.context["form"].errors["file"] == ["Choose a file to import."]


@pytest.mark.parametrize(
    "data",
    [
        {"column_0": "password", "column_1": "business_id", "match_mode": "skip"},
        {"column_0": "organisation_name", "column_99": "email", "column_x": "city", "match_mode": "skip"},
        {"column_0": "organisation_name", "match_mode": "delete_everything"},
        {"column_0": "organisation_name", "column_1": "organisation_name", "match_mode": "skip"},
        {"column_1": "business_id", "match_mode": "skip"},
        {},
    ],
)
def test_a_bad_mapping_post_shows_the_form_again(client, handler_a, register_a, data):
    batch = services.import_batch_create(
        actor=handler_a,
        register=register_a,
        file=io.BytesIO(upload(HEADERS, organisation_rows(2)).read()),
        file_name="asiakkaat.csv",
    )

    response = signed_in(client, handler_a).post(url("batch-mapping", register_a, batch), data)

    batch.refresh_from_db()
    if "column_99" in data:
        # Unknown columns are ignored: the known one is enough for a preview, which starts.
        assert response.status_code == 302
        assert batch.state == ImportBatch.State.PREVIEWING
    else:
        assert response.status_code == 200
        assert response.context["form"].errors
        assert batch.state == ImportBatch.State.PREVIEWED


def test_a_mapping_without_a_name_column_says_so(client, handler_a, register_a):
    batch = services.import_batch_create(
        actor=handler_a,
        register=register_a,
        file=io.BytesIO(upload(HEADERS, organisation_rows(2)).read()),
        file_name="asiakkaat.csv",
    )

    response = signed_in(client, handler_a).post(
        url("batch-mapping", register_a, batch), {"column_1": "business_id", "match_mode": "skip"}
    )

    assert "Choose a column for the organisation name or the last name." in response.content.decode()


def test_actions_on_a_batch_in_the_wrong_state_give_a_message(client, handler_a, register_a):
    batch = committed_batch(actor=handler_a, register=register_a, rows=organisation_rows(1))
    signed_in(client, handler_a)

    start = client.post(url("batch-start", register_a, batch), follow=True)
    cancel = client.post(url("batch-cancel", register_a, batch), follow=True)
    mapping = client.get(url("batch-mapping", register_a, batch), follow=True)
    csv = client.get(url("batch-rejected-csv", register_a, batch), follow=True)

    assert "An import cannot move from “done” to “queued”." in messages_of(start)
    assert "An import cannot move from “done” to “cancelled”." in messages_of(cancel)
    assert any("can no longer be changed" in message for message in messages_of(mapping))
    assert csv.status_code == 200
    assert csv.redirect_chain[-1][0] == url("batch-detail", register_a, batch)


def test_a_second_undo_is_refused_with_a_message(client, handler_a, register_a):
    batch = committed_batch(actor=handler_a, register=register_a, rows=organisation_rows(1))
    signed_in(client, handler_a)
    client.post(url("batch-undo", register_a, batch))

    again = client.post(url("batch-undo", register_a, batch), follow=True)
    confirm = client.get(url("batch-undo", register_a, batch), follow=True)

    assert "An import cannot move from “undone” to “undone”." in messages_of(again)
    assert "This import cannot be undone." in messages_of(confirm)


# Undo.


def test_undo_is_refused_after_30_days(client, handler_a, register_a):
    batch = committed_batch(actor=handler_a, register=register_a, rows=organisation_rows(2))
    finished = timezone.now() - datetime.timedelta(days=31)
    ImportBatch.objects.filter(pk=batch.pk).update(finished_at=finished)
    signed_in(client, handler_a)

    listing = client.get(url("batch-list", register_a))
    response = client.post(url("batch-undo", register_a, batch), follow=True)

    assert url("batch-undo", register_a, batch) not in listing.content.decode()
    date = timezone.localdate(finished).strftime("%d.%m.%Y")
    assert f"An import can be undone within 30 days; this one finished on {date}." in messages_of(response)
    assert Customer.objects.filter(register=register_a).count() == 2


def test_undo_lists_the_customers_it_kept_and_why(client, owner_a, handler_a, register_a):
    batch = committed_batch(actor=handler_a, register=register_a, rows=organisation_rows(2))
    changed = Customer.objects.get(business_id=business_id(0))
    customer_update(actor=owner_a, customer=changed, data={"city": "Tornio"}, version=changed.version)

    response = signed_in(client, handler_a).post(url("batch-undo", register_a, batch), follow=True)

    assert "The import was undone: 1 customers deleted, 0 restored, 1 kept." in messages_of(response)
    html = response.content.decode()
    assert "Customers kept as they are" in html
    assert "Yritys 0 Oy" in html
    assert "changed since the import" in html
    assert Customer.objects.filter(register=register_a).count() == 1
