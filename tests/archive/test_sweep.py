"""The sweep of stray archive files: only files no row names, only once they are an hour old."""

import datetime
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from archive.services import message_archive
from crm.models import ContactCentreMessage
from tests.factories import OrderingClientFactory

from . import mail_samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def age(name: str, hours: float) -> None:
    when = (timezone.now() - datetime.timedelta(hours=hours)).timestamp()
    os.utime(default_storage.path(name), (when, when))


def stray(name: str, hours: float) -> str:
    saved = default_storage.save(name, ContentFile(b"sealed bytes of a row that never committed"))
    age(saved, hours)
    return saved


@pytest.fixture
def archived():
    result = message_archive(
        raw=mail_samples.with_attachments(),
        ordering_client=OrderingClientFactory(),
        direction=ContactCentreMessage.Direction.INCOMING,
        intake=ContactCentreMessage.Intake.UPLOAD,
    )
    message = result.message
    names = [message.raw.name, *(attachment.file.name for attachment in message.attachments.all())]
    for name in names:
        age(name, 5)
    return names


def test_it_deletes_old_files_no_row_names_and_keeps_the_rest(archived, capsys):
    old = stray("archive/2026/10/0123456789abcdef", hours=3)
    young = stray("archive/2026/11/fedcba9876543210", hours=0.2)
    elsewhere = stray("exports/old-file", hours=30)

    call_command("archive_files_sweep")

    assert not default_storage.exists(old)
    assert default_storage.exists(young), "a row may still be committing it"
    assert default_storage.exists(elsewhere), "only the archive/ prefix is swept"
    assert all(default_storage.exists(name) for name in archived), "files of archived rows stay"
    assert "Deleted 1 stray files; kept 1 younger than an hour." in capsys.readouterr().out


def test_a_dry_run_only_counts(archived, capsys):
    old = stray("archive/2026/10/0123456789abcdef", hours=3)
    call_command("archive_files_sweep", "--dry-run")
    assert default_storage.exists(old)
    assert "Would delete 1 stray files" in capsys.readouterr().out


def test_it_runs_on_an_empty_storage(capsys):
    call_command("archive_files_sweep")
    assert "Deleted 0 stray files" in capsys.readouterr().out


def test_the_nightly_task_sweeps_what_a_rolled_back_batch_left(settings, celery_eager, monkeypatch):
    import archive.services
    from archive.tasks import files_sweep

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive.services, "_audit_entries", failing)
    with pytest.raises(OSError, match="disk full"):
        message_archive(
            raw=mail_samples.with_attachments(),
            ordering_client=OrderingClientFactory(),
            direction=ContactCentreMessage.Direction.INCOMING,
            intake=ContactCentreMessage.Intake.UPLOAD,
        )
    assert not ContactCentreMessage.objects.exists()
    left = [path for path in (settings.MEDIA_ROOT / "archive").rglob("*") if path.is_file()]
    assert len(left) == 2, "the original and the attachment were stored before the rows failed"
    for path in left:
        age(str(path.relative_to(settings.MEDIA_ROOT)), 2)

    assert files_sweep.delay().get() == 2
    assert not any(path.exists() for path in left)
