"""Closed data-subject request files past their retention (730 days) go with their packages and letters (issue 22).

The run keeps counts only; a file closed more recently, or still open, stays; the audit trail still verifies.
"""

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from privacy.requests.models import (
    Correspondence,
    DataSubjectRequest,
    PackageDownload,
    RequestEvent,
    ResponsePackage,
)
from privacy.requests.workflow import request_transition
from privacy.retention.models import PurgeCount, PurgeKind
from privacy.retention.purge import purge_run
from registers import audit_chain

from ...factories import PersonCustomerFactory
from .. import steps

pytestmark = pytest.mark.django_db


def _age(request, days: int) -> None:
    DataSubjectRequest.objects.filter(pk=request.pk).update(closed_at=timezone.now() - datetime.timedelta(days=days))


def _answered_with_download(register, handler, owner, django_capture_on_commit_callbacks):
    person = PersonCustomerFactory(register=register, first_name="Ronja", last_name="Vanhanen")
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.answered(register, handler, owner, records=[person], name="Ronja Vanhanen")
    package = request.packages.get()
    PackageDownload.objects.create(package=package, fmt="pdf", by_requester=True, at=timezone.now())
    return request, package


def test_a_closed_file_past_retention_goes_with_its_packages_letters_and_events(
    settings, register_a, handler_a, owner_a, django_capture_on_commit_callbacks
):
    request, package = _answered_with_download(register_a, handler_a, owner_a, django_capture_on_commit_callbacks)
    files = [f for f in (package.html, package.pdf, package.json) if f]
    assert files
    assert all(f.storage.exists(f.name) for f in files)
    assert Correspondence.objects.filter(request=request).exists()
    _age(request, settings.DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS + 1)

    with django_capture_on_commit_callbacks(execute=True):
        run = purge_run(trigger="command")

    for model in (DataSubjectRequest, ResponsePackage, PackageDownload, RequestEvent, Correspondence):
        assert not model._base_manager.exists(), model
    assert not any(f.storage.exists(f.name) for f in files)
    count = PurgeCount.objects.get(run=run, kind=PurgeKind.REQUEST_FILE)
    assert (count.due, count.purged) == (1, 1)
    assert count.cascaded["privacy.requestevent"] >= 5
    # Counts only: no name, address or reference of the request in the run's record or the remaining trail.
    recorded = str(list(PurgeCount.objects.filter(run=run).values())) + str(run.note)
    assert "Ronja" not in recorded
    assert request.reference not in recorded
    request_type = ContentType.objects.get_for_model(DataSubjectRequest)
    trail = LogEntry.objects.filter(content_type=request_type, object_id=request.pk)
    assert trail.exists()
    assert not any("Ronja" in str(v) for v in trail.values_list("object_repr", "changes", "serialized_data"))
    reports, _anchors = audit_chain.audit_verify(["privacy.requestevent"], with_anchors=False)
    assert reports[0].ok
    assert reports[0].rows == 0


def test_files_closed_recently_and_open_requests_stay(settings, register_a, handler_a, owner_a):
    recent = steps.answered(register_a, handler_a, owner_a)
    _age(recent, settings.DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS - 1)
    still_open = steps.in_progress(register_a, handler_a)
    run = purge_run(trigger="command")
    assert DataSubjectRequest.objects.filter(pk__in=[recent.pk, still_open.pk]).count() == 2
    assert not PurgeCount.objects.filter(run=run, kind=PurgeKind.REQUEST_FILE).exists()


def test_a_withdrawn_file_past_retention_goes_too(settings, register_a, handler_a, owner_a):
    request = steps.in_triage(register_a, handler_a)
    request_transition(request=request, to=DataSubjectRequest.State.WITHDRAWN, actor=owner_a, reason="test")
    _age(request, settings.DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS + 1)
    run = purge_run(trigger="command")
    assert not DataSubjectRequest.objects.filter(pk=request.pk).exists()
    assert PurgeCount.objects.get(run=run, kind=PurgeKind.REQUEST_FILE).purged == 1
