"""Data-subject request files on S3-compatible storage (issue 23): a mandate from the public form opened by a
handler, an answer package (HTML, JSON and the PDF a task renders) re-rendered at approval and downloaded, and
the objects leave the bucket when the package expires and when the request file is purged."""

import datetime
import hashlib
import random
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy.requests import services, tokens
from privacy.requests.models import DataSubjectRequest, ResponsePackage
from privacy.retention.purge import purge_run

from ..factories import PersonCustomerFactory
from ..privacy import steps

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def public_client(private_cache, settings):
    settings.PRIVACY_RATE_LIMITS = {"ip": (1000, 3600), "email": (1000, 3600)}
    return Client(REMOTE_ADDR=f"10.23.{random.randint(0, 255)}.{random.randint(1, 254)}")


def stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def test_a_mandate_sent_with_the_public_form_is_in_the_bucket_and_a_handler_opens_it(
    s3_bucket, public_client, client, register_a, handler_a
):
    form = reverse("privacy:request-form", kwargs={"organisation": register_a.organisation.code})
    response = public_client.post(
        form,
        {
            "kind": "access",
            "registers": [register_a.slug],
            "requester_name": "Anna Asiakas",
            "requester_email": f"anna.{uuid.uuid4().hex[:10]}@example.fi",
            "acting_for": "Aapo Asiakas",
            "mandate": SimpleUploadedFile("valtakirja.pdf", PNG, content_type="application/pdf"),
            "language": "fi",
            "delivery": "electronic",
        },
    )
    assert response.status_code == 302
    request = services.request_confirm_email(request=DataSubjectRequest.objects.get())
    assert s3_bucket.names() == {request.mandate.name}
    assert s3_bucket.read(request.mandate.name) == PNG

    client.force_login(handler_a)
    response = client.get(reverse("privacy:request-mandate", kwargs={"code": request.code}))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_an_answer_package_is_rendered_replaced_and_downloaded_through_the_bucket(
    s3_bucket, client, register_a, handler_a, owner_a, django_capture_on_commit_callbacks, celery_eager
):
    request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])
    reviewed = request.packages.get()
    assert s3_bucket.names() == {reviewed.html.name, reviewed.json.name}

    # The approver's note re-renders the letter and the data; the PDF task renders the new letter.
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_approve(request=request, actor=owner_a, decision_text="Tiedot ovat liitteenä.")

    package = request.packages.get()
    names = {fmt: package.file_for(fmt).name for fmt in ("html", "json", "pdf")}
    assert s3_bucket.names() == set(names.values()), "the reviewed files are gone, the new ones and the PDF are there"
    assert "Tiedot ovat liitteenä." in stored(package.html).decode()
    assert stored(package.pdf).startswith(b"%PDF-")
    token = tokens.download_token_make(package)
    for fmt, name in names.items():
        response = Client().get(reverse("privacy:download-file", kwargs={"token": token, "fmt": fmt}))
        assert response.status_code == 200, fmt
        body = b"".join(response.streaming_content)
        assert body == s3_bucket.read(name)
        assert hashlib.sha256(body).hexdigest() == package.file_sha256[fmt], fmt
    client.force_login(owner_a)
    response = client.get(reverse("privacy:request-package", kwargs={"code": request.code, "fmt": "pdf"}))
    assert b"".join(response.streaming_content) == s3_bucket.read(names["pdf"])


def test_an_expired_package_leaves_the_bucket(s3_bucket, register_a, handler_a, owner_a):
    request = steps.answered(register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    assert s3_bucket.names() == {package.html.name, package.json.name}
    ResponsePackage.objects.filter(pk=package.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))

    assert services.packages_expire() == 1

    assert s3_bucket.names() == set()


def test_a_request_file_purged_after_its_retention_leaves_nothing_in_the_bucket(
    s3_bucket, settings, register_a, handler_a, owner_a, django_capture_on_commit_callbacks
):
    mandate = SimpleUploadedFile("valtakirja.png", PNG, content_type="image/png")
    request = steps.answered(
        register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)],
        acting_for="Aapo Asiakas", mandate=mandate,
    )  # fmt: skip
    package = request.packages.get()
    assert s3_bucket.names() == {request.mandate.name, package.html.name, package.json.name}
    closed = timezone.now() - datetime.timedelta(days=settings.DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS + 1)
    DataSubjectRequest.objects.filter(pk=request.pk).update(closed_at=closed)

    with django_capture_on_commit_callbacks(execute=True):
        purge_run(trigger="command")

    assert not DataSubjectRequest.objects.filter(pk=request.pk).exists()
    assert s3_bucket.names() == set()
