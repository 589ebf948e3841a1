"""Permission-filtered reads of document requests: the handlers and owners of the registers of the authority.

A request that names personal data files is seen by those who handle requests in one of them; one that names
none, by those who handle requests in any register of the authority. Others get 404.
"""

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from privacy.statistics.selectors import suppress
from registers import roles
from registers.models import Organisation, Register
from registers.selectors import register_ids

from .models import DocumentRequest


def _visible(register_pks: set[int]) -> Q:
    organisations = Register.objects.filter(pk__in=register_pks).values("organisation_id")
    return Q(registers__in=register_pks) | Q(registers__isnull=True, organisation__in=organisations)


def handled_register_ids(*, user) -> set[int]:
    return register_ids(user=user, perms=(roles.HANDLE_REQUESTS, roles.APPROVE_REQUESTS))


def document_request_list(*, user) -> QuerySet[DocumentRequest]:
    pks = handled_register_ids(user=user)
    if not pks:
        return DocumentRequest.objects.none()
    visible = DocumentRequest.objects.filter(_visible(pks)).values("pk")
    return DocumentRequest.objects.filter(pk__in=visible).select_related("organisation")


def document_request_get_for_user(*, user, code) -> DocumentRequest:
    found = document_request_list(user=user).filter(code=code).first()
    if found is None:
        raise Http404
    return found


def user_may_decide(*, user, request: DocumentRequest) -> bool:
    """The competent office holder: the owner (who approves answers) of every personal data file named, or of a
    register of the authority when none is named."""
    pks = register_ids(user=user, perms=(roles.APPROVE_REQUESTS,))
    named = set(request.registers.values_list("pk", flat=True))
    if named:
        return named <= pks
    return Register.objects.filter(pk__in=pks, organisation=request.organisation_id).exists()


def intake_organisations(*, user):
    """The authorities whose requests the user may record: those of the registers where they handle requests."""
    pks = handled_register_ids(user=user)
    return Organisation.objects.filter(registers__in=pks).distinct().order_by("name_fi")


def document_request_monthly_figures(*, user) -> list[dict]:
    """Per authority and month of receipt: received, answered within the time of 14 §, late, and each outcome.

    Counts only, for the registers' owners; a count from 1 to STATISTICS_MIN_CELL - 1 is shown as None (too few to
    publish: a requester could be singled out), as the register statistics do.
    """
    owned = register_ids(user=user, perms=(roles.APPROVE_REQUESTS,))
    if not owned:
        return []
    visible = DocumentRequest.objects.filter(_visible(owned)).values("pk")
    answered = Q(answered_at__isnull=False)
    late = (answered & Q(answered_at__gt=F("due_at"))) | Q(
        answered_at__isnull=True, due_at__lt=timezone.now(), state__in=DocumentRequest.CLOCK_STATES
    )
    outcomes = {f"outcome_{value}": Count("pk", filter=Q(outcome=value)) for value in DocumentRequest.Outcome.values}
    rows = (
        DocumentRequest.objects.filter(pk__in=visible)
        .annotate(month=TruncMonth("received_at"))
        .values("organisation_id", "month")
        .annotate(
            received=Count("pk"),
            in_time=Count("pk", filter=answered & Q(answered_at__lte=F("due_at"))),
            late=Count("pk", filter=late),
            **outcomes,
        )
        .order_by("-month", "organisation_id")
    )
    counted = ("received", "in_time", "late", *outcomes)
    names = {o.pk: o.name for o in Organisation.objects.filter(pk__in={row["organisation_id"] for row in rows})}
    return [
        {**row, "authority": names[row["organisation_id"]], **{name: suppress(row[name]) for name in counted}}
        for row in rows
    ]
