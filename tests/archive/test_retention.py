"""An ingested message leaves with its original and attachments when its ordering client's time is over."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from archive.services import message_archive
from crm.models import ContactCentreMessage, MessageAttachment
from privacy.retention.models import PurgeCount, PurgeKind, PurgeRun
from privacy.retention.purge import purge_run
from tests.factories import ContactCentreRegisterFactory, OrderingClientFactory

from . import mail_samples

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS = 30


def test_the_purge_takes_the_message_its_original_and_attachments_and_keeps_counts_only(settings):
    register = ContactCentreRegisterFactory()
    ended = OrderingClientFactory(register=register, active_until=timezone.localdate() - datetime.timedelta(days=40))
    current = OrderingClientFactory(register=register)
    raw = mail_samples.with_attachments(body="Salainen asia: Aino Asiakas, puh 040 123 4567.")
    gone = message_archive(raw=raw, ordering_client=ended, direction="in", intake="upload").message
    kept = message_archive(raw=raw, ordering_client=current, direction="in", intake="upload").message
    files = [settings.MEDIA_ROOT / gone.raw.name, settings.MEDIA_ROOT / gone.attachments.get().file.name]
    assert all(path.exists() for path in files)

    run = purge_run(trigger=PurgeRun.Trigger.COMMAND)

    assert list(ContactCentreMessage.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(MessageAttachment.objects.values_list("message_id", flat=True)) == [kept.pk]
    assert not any(path.exists() for path in files), "the sealed files left with the rows"
    assert (settings.MEDIA_ROOT / kept.raw.name).exists()
    count = PurgeCount.objects.get(run=run, kind=PurgeKind.CONTACT_CENTRE_MESSAGE)
    assert count.purged == 1
    trail = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ContactCentreMessage), object_id=gone.pk
    )
    assert "Aino" not in json.dumps(list(trail.values()), default=str)
