"""The end of a closed data-subject request file: everything of it goes when its retention has passed.

A request file is kept DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS (two years) after it closed, as evidence of how the
request was handled; then the retention purge (privacy.retention.purge) calls `request_file_purge` for it. The
case's own history is append-only while the case lives, so this is the one routine that removes it: the packages
with their files and downloads, the letters, the mandate, the matches, refusals, plans, notification tasks and
events, and the case itself. The audit trail of each audited row is redacted as the retention purge's is, and the
removals of the events are linked in the tamper-evident chain; the run records counts only.
"""

from collections import Counter

from django.db import models, transaction

from privacy.retention.redaction import delete_with_redacted_trail

from .models import DataSubjectRequest, PackageDownload, RequestEvent, ResponsePackage

REDACTED_REPR = "[request file past retention]"


def _files(request: DataSubjectRequest) -> list:
    files = [request.mandate] if request.mandate else []
    for package in ResponsePackage.objects.filter(request=request):
        files += [f for f in (package.html, package.pdf, package.json) if f]
    return files


def request_file_purge(*, request: DataSubjectRequest, run) -> Counter:
    """Remove a closed request file past its retention, with its files; return the rows removed per model label."""
    additional = {"purge_run": str(run.code), "reason": "request file retention"}

    def remove(queryset) -> Counter:
        return delete_with_redacted_trail(
            queryset, actor_id=run.triggered_by_id, object_repr=REDACTED_REPR, additional=additional
        )

    files = _files(request)
    removed: Counter = Counter()
    with transaction.atomic():
        removed += remove(models.QuerySet(PackageDownload).filter(package__request=request))
        # The rows that guard the case (PROTECT) go first; a plain QuerySet, as their managers refuse deletion.
        for relation in DataSubjectRequest._meta.related_objects:
            if relation.on_delete is models.PROTECT and relation.related_model is not RequestEvent:
                removed += remove(models.QuerySet(relation.related_model).filter(**{relation.field.name: request}))
        removed += remove(models.QuerySet(RequestEvent).filter(request=request))
        removed += remove(DataSubjectRequest.objects.filter(pk=request.pk))
        # Files go only once the rows naming them are gone for good.
        transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files])
    return removed
