"""A customer import on S3-compatible storage (issue 23): the uploaded file and the rejected rows' file are
objects in the bucket, read again by the preview task and the mapping page (which may run on other nodes than
the upload), downloaded from it, and deleted from it when the import is done."""

import pytest
from django.urls import reverse

from crm.models import Customer
from imports.models import ImportBatch

from ..imports.factories import upload
from ..imports.helpers import HEADERS, business_id, organisation_rows

pytestmark = pytest.mark.django_db


def url(name, register, batch=None):
    kwargs = {"register": register.slug} if batch is None else {"register": register.slug, "code": batch.code}
    return reverse(f"imports:{name}", kwargs=kwargs)


def test_an_uploaded_file_is_previewed_rejected_rows_downloaded_and_imported_through_the_bucket(
    s3_bucket, client, handler_a, register_a, django_capture_on_commit_callbacks, celery_eager
):
    rows = [*organisation_rows(2), ["Rikki Oy", business_id(7), "ei-osoite", "Kemi"]]
    client.force_login(handler_a)

    client.post(url("batch-list", register_a), {"file": upload(HEADERS, rows)})
    batch = ImportBatch.objects.get(register=register_a)
    assert s3_bucket.names() == {batch.file.name}
    assert client.get(url("batch-mapping", register_a, batch)).status_code == 200, "the page reads the stored file"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("batch-mapping", register_a, batch),
            {"column_0": "organisation_name", "column_1": "business_id", "column_2": "email", "column_3": "city",
             "match_mode": "skip"},
        )  # fmt: skip
    batch.refresh_from_db()
    assert (batch.state, batch.created, batch.invalid) == (ImportBatch.State.PREVIEWED, 2, 1)
    assert s3_bucket.names() == {batch.file.name, batch.rejected_file.name}

    response = client.get(url("batch-rejected-csv", register_a, batch))
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Nimi;Y-tunnus;")
    assert lines[1].startswith(f"Rikki Oy;{business_id(7)};ei-osoite;Kemi;")
    assert s3_bucket.read(batch.rejected_file.name).decode("utf-8-sig").splitlines() == lines

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("batch-start", register_a, batch))
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.DONE
    assert Customer.objects.filter(register=register_a, source="imported").count() == 2
    # The file and its rejected rows quote personal data: they go when the import is done.
    assert s3_bucket.names() == set()
