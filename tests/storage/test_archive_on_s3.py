"""The contact-centre archive on S3-compatible storage (issue 23): an uploaded message's sealed original and
attachment are objects in the bucket, opened by the expert through the storage, swept when no row names them,
and deleted from the bucket when an erasure removes the message."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from archive.files import stray_files_sweep
from archive.services import message_archive
from crm.models import ContactCentreMessage, OrderingClient
from privacy.requests.models import DataSubjectRequest
from privacy.rights import erasure
from registers.models import Role
from registers.sealing import unseal

from ..archive import mail_samples
from ..conftest import grant
from ..factories import ContactCentreRegisterFactory, OrderingClientFactory, UserFactory
from ..privacy import rights_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre():
    register = ContactCentreRegisterFactory(slug="keskus")
    return register, OrderingClientFactory(register=register)


def crm_url(name, register, **kwargs) -> str:
    return reverse(f"crm:{name}", kwargs={"register": register.slug, **kwargs})


def test_an_uploaded_message_and_its_attachment_are_read_from_the_bucket_and_erased_from_it(
    s3_bucket, client, centre, django_capture_on_commit_callbacks
):
    register, ordering_client = centre
    expert = UserFactory(username="cc_expert")
    grant(expert, register, Role.CONTACT_CENTRE_EXPERT)
    raw = mail_samples.with_attachments(message_id="<liite@example.fi>")
    client.force_login(expert)

    upload = {"file": SimpleUploadedFile("viesti.eml", raw), "ordering_client": ordering_client.code, "direction": "in"}
    client.post(reverse("archive:message-upload", kwargs={"register": register.slug}), upload)

    message = ContactCentreMessage.objects.get()
    attachment = message.attachments.get()
    assert s3_bucket.names() == {message.raw.name, attachment.file.name}
    assert unseal(s3_bucket.read(message.raw.name)) == raw, "the original is sealed at rest in the bucket"
    response = client.get(crm_url("message-attachment", register, code=message.code, attachment=attachment.code))
    assert response.content == mail_samples.PDF
    response = client.post(crm_url("message-original", register, code=message.code), {"action": "download"})
    assert response.content == raw

    # The client relationship ended long ago: its messages are past their retention and may be erased.
    OrderingClient.objects.filter(pk=ordering_client.pk).update(
        active_until=timezone.localdate() - datetime.timedelta(days=400)
    )
    handler, owner = UserFactory(username="cc_handler"), UserFactory(username="cc_owner")
    grant(handler, register, Role.HANDLER)
    grant(owner, register, Role.OWNER)
    request = rights_steps.in_progress([register], handler, kind=DataSubjectRequest.Kind.ERASURE, records=[message])
    erasure.erasure_plan_compute(request=request, actor=handler)
    request = rights_steps.prepared(request, handler)
    with django_capture_on_commit_callbacks(execute=True):
        erasure.erasure_execute(request=request, actor=owner)

    assert not ContactCentreMessage.objects.exists()
    assert s3_bucket.names() == set()


def test_the_sweep_finds_stray_archive_objects_in_the_bucket(s3_bucket, centre):
    _register, ordering_client = centre
    message = message_archive(
        raw=mail_samples.plain(message_id="<a@example.fi>"), ordering_client=ordering_client, direction="in",
        intake="upload",
    ).message  # fmt: skip
    stray = default_storage.save("archive/2026/01/left-by-a-rollback", ContentFile(b"sealed"))
    elsewhere = default_storage.save("imports/not-the-archives.csv", ContentFile(b"x"))
    # The objects were written just now; an hour on, the stray one is old enough to go.
    later = timezone.now() + datetime.timedelta(hours=2)

    assert stray_files_sweep(now=later) == (1, 0)

    assert s3_bucket.names() == {message.raw.name, elsewhere}
    assert stray not in s3_bucket.names()
