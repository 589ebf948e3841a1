"""Remove the archive's stray files: sealed files in the media storage that no message or attachment names.

`archive.services.message_archive` stores a message's files before its row commits, so that a row never
names a missing file; a row that then does not commit (a crash, a lost race) leaves its files behind, sealed
and named by nothing. A file younger than an hour may belong to a row still being written, and is kept.
"""

import datetime
import posixpath

from django.core.files.storage import default_storage
from django.utils import timezone

from crm.models import ContactCentreMessage, MessageAttachment

PREFIX = "archive"
MIN_AGE = datetime.timedelta(hours=1)
CHUNK = 500


def _files(storage, folder: str):
    """Yield the names of the files under the folder, one folder at a time (archive/<year>/<month>/...)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    if files:
        yield [posixpath.join(folder, name) for name in files]
    for sub in sorted(folders):
        yield from _files(storage, posixpath.join(folder, sub))


def _referenced(names: list[str]) -> set[str]:
    found = set()
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        found.update(ContactCentreMessage.objects.filter(raw__in=chunk).values_list("raw", flat=True))
        found.update(MessageAttachment.objects.filter(file__in=chunk).values_list("file", flat=True))
    return found


def stray_files_sweep(*, storage=None, dry_run: bool = False, now=None) -> tuple[int, int]:
    """Delete (or only count) the unreferenced archive files older than an hour; return (stray, kept young)."""
    storage = storage or default_storage
    cutoff = (now or timezone.now()) - MIN_AGE
    stray = young = 0
    for names in _files(storage, PREFIX):
        referenced = _referenced(names)
        for name in names:
            if name in referenced:
                continue
            if storage.get_modified_time(name) > cutoff:
                young += 1
                continue
            stray += 1
            if not dry_run:
                storage.delete(name)
    return stray, young
