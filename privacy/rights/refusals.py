"""Deciding a request of arts. 16-21, and refusing any request in whole or in part (GDPR 12(4)).

A refusal always carries at least one legal ground code and the decider's own reasons, and its letter names the
Data Protection Ombudsman and how to appeal. The decision is the register owner's and never the preparer's: the
state machine's four-eyes and approver guards apply to every path here.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.requests.outbox import correspondence_queue
from privacy.requests.services import DEFAULT_DOWNLOAD_DAYS
from privacy.requests.workflow import request_event_add, request_instance_sync, request_transition

from .guards import RIGHTS_KINDS, portability_ineligible_registers, weighing_decided
from .letters import letter_create
from .models import ERROR_REFUSAL_TEXT_REQUIRED, ObjectionWeighing, RectificationItem, Refusal, RefusalGround
from .services import require

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind

ERROR_USE_ERASURE_PLAN = _("An erasure is decided by executing its reviewed plan.")


def _package_release(request: DataSubjectRequest) -> None:
    """Release the newest answer package (portable data) and send its download link, as an approved answer does."""
    package = request.packages.order_by("-generated_at").first()
    if package is None or package.released_at is not None:
        return
    package.released_at = timezone.now()
    if request.delivery == DataSubjectRequest.Delivery.ELECTRONIC:
        days = getattr(settings, "PRIVACY_DOWNLOAD_DAYS", DEFAULT_DOWNLOAD_DAYS)
        package.expires_at = package.released_at + datetime.timedelta(days=days)
    package.save(update_fields=["released_at", "expires_at"])
    if request.delivery == DataSubjectRequest.Delivery.ELECTRONIC:
        correspondence_queue(request=request, kind=Correspondence.Kind.ANSWER_READY, package=package)


def _refusal_create(*, request, actor, grounds, text: str, partial: bool) -> Refusal:
    refusal = Refusal(
        request=request,
        partial=partial,
        grounds=list(dict.fromkeys(g for g in grounds if g)),
        text=(text or "").strip(),
        decided_by=actor,
        decided_at=timezone.now(),
    )
    refusal.full_clean()
    refusal.save()
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.REFUSAL_DECIDED,
        payload={"grounds": refusal.grounds, "partial": partial},
    )
    return refusal


def decide(*, request: DataSubjectRequest, actor, outcome: str, grounds=(), text: str = "") -> DataSubjectRequest:
    """Record the refusal (if any), write the letter and make the decision move, in the caller's transaction."""
    refusal = None
    if outcome in {State.REFUSED, State.PARTLY_REFUSED}:
        refusal = _refusal_create(
            request=request, actor=actor, grounds=grounds, text=text, partial=outcome == State.PARTLY_REFUSED
        )
        if outcome == State.PARTLY_REFUSED:
            _package_release(request)
    elif request.kind == Kind.PORTABILITY:
        _package_release(request)
    letter_create(request=request, actor=actor, outcome=outcome, refusal=refusal)
    reason = (text or "").strip()
    # Without a typed text the step says "decided" in the reader's language, not in the code's.
    payload = {} if reason else {"note": RequestEvent.Note.DECIDED}
    return request_transition(request=request, to=outcome, actor=actor, reason=reason, payload=payload)


@transaction.atomic
def request_refuse(
    *, request: DataSubjectRequest, actor, grounds: list[str], text: str, partial: bool = False
) -> DataSubjectRequest:
    """Refuse a request in whole or in part: legal grounds, reasons, and a letter with the Ombudsman's contact."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    outcome = State.PARTLY_REFUSED if partial else State.REFUSED
    decided = decide(request=current, actor=actor, outcome=outcome, grounds=grounds, text=text)
    request_instance_sync(request, decided)
    return decided


def proposed_outcome(request: DataSubjectRequest) -> tuple[str, list[str]]:
    """Return the outcome the recorded work leads to, and the legal grounds of what was not done."""
    if request.kind == Kind.RECTIFICATION:
        items = list(request.rectification_items.all())
        refused = [i for i in items if i.status == RectificationItem.Status.REFUSED]
        grounds = list(dict.fromkeys(i.ground for i in refused if i.ground))
        if refused and len(refused) == len(items):
            return State.REFUSED, grounds
        return (State.PARTLY_REFUSED, grounds) if refused else (State.RESPONDED, [])
    if request.kind == Kind.PORTABILITY:
        ineligible = portability_ineligible_registers(request)
        grounds = [RefusalGround.NOT_CONSENT_OR_CONTRACT.value]
        if ineligible and len(ineligible) == request.register_parts.count():
            return State.REFUSED, grounds
        return (State.PARTLY_REFUSED, grounds) if ineligible else (State.RESPONDED, [])
    if request.kind == Kind.OBJECTION:
        weighed = weighing_decided(request)
        if weighed is not None and weighed.state == ObjectionWeighing.State.COMPELLING_GROUNDS:
            # Processing goes on: a refusal on 21(1), partial when direct marketing was stopped all the same.
            marketing = request.events.filter(action=RequestEvent.Action.OBJECTION_APPLIED).exists()
            return (State.PARTLY_REFUSED if marketing else State.REFUSED), [RefusalGround.COMPELLING_GROUNDS.value]
    return State.RESPONDED, []


@transaction.atomic
def rights_request_decide(
    *, request: DataSubjectRequest, actor, grounds: list[str] | None = None, text: str = ""
) -> DataSubjectRequest:
    """Decide a reviewed rectification, restriction, objection, consent withdrawal or portability request."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    require(current, kinds=RIGHTS_KINDS, states=(State.REVIEW,))
    if current.kind == Kind.ERASURE:
        raise ValidationError(ERROR_USE_ERASURE_PLAN)
    outcome, suggested = proposed_outcome(current)
    weighed = weighing_decided(current) if current.kind == Kind.OBJECTION else None
    if outcome != State.RESPONDED and not (text or "").strip() and weighed is not None:
        # The grounds recorded in the weighing are the reasons the letter gives, unless the decider writes others.
        text = weighed.grounds_text
    if outcome != State.RESPONDED and not (text or "").strip():
        raise ValidationError({"text": ERROR_REFUSAL_TEXT_REQUIRED})
    decided = decide(request=current, actor=actor, outcome=outcome, grounds=[*(grounds or []), *suggested], text=text)
    request_instance_sync(request, decided)
    return decided
