"""Guards of the request state machine that belong to the rights of arts. 16-21 (called by `workflow`).

Kept apart from `workflow` so that the table of moves stays readable: these checks say what must exist before
a rectification, erasure, restriction, objection, consent withdrawal or portability request may be sent for
review, decided or closed, and that no request is refused without its legal grounds (GDPR 12(4)).
"""

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from privacy.requests.models import DataSubjectRequest, RequestEvent

from .models import ErasurePlan, NotificationTask, ObjectionWeighing, RectificationItem, RefusalGround

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind

# Kinds whose answer is a decision letter of this module's services, not the access package.
RIGHTS_KINDS = frozenset(
    {
        Kind.RECTIFICATION,
        Kind.ERASURE,
        Kind.RESTRICTION,
        Kind.OBJECTION,
        Kind.PORTABILITY,
        Kind.CONSENT_WITHDRAWAL,
    }
)
REFUSAL_STATES = frozenset({State.REFUSED, State.PARTLY_REFUSED})
# The action that must be recorded, after the last register check, before review (an objection: `_objection_effect`).
EFFECT_ACTIONS = {
    Kind.RESTRICTION: RequestEvent.Action.RESTRICTION_APPLIED,
    Kind.CONSENT_WITHDRAWAL: RequestEvent.Action.CONSENT_WITHDRAWN,
}

ERROR_REFUSAL_MISSING = _("A refusal needs its legal grounds and reasons: use the refusal form.")
ERROR_LETTER_MISSING = _("Decide this request with its decision form, which writes the letter to the requester.")
ERROR_NOTIFICATIONS_OPEN = _(
    "Notify every recipient of the disclosed data, or record why that is impossible or disproportionate, "
    "before closing the request: %(recipients)s."
)
ERROR_PLAN_MISSING = _("Compute the erasure plan after the last register check before sending the request for review.")
ERROR_PLAN_NOT_EXECUTED = _("Execute the reviewed erasure plan; that decides the request.")
ERROR_CORRECTIONS_UNDECIDED = _("Correct or refuse every requested correction first.")
ERROR_CORRECTIONS_MISSING = _("Record what the person asks to be corrected in the records found.")
ERROR_CORRECTIONS_REFUSED = _("Some corrections were refused: decide the request as a partial refusal, with grounds.")
ERROR_EFFECT_MISSING = _("Apply the request to the person's records first.")
ERROR_PORTABLE_DATA_MISSING = _("Build the portable data after the last register check first.")
ERROR_PORTABILITY_REFUSED = _(
    "Portability does not apply to every register of this request: decide it as a (partial) refusal, with grounds."
)
ERROR_WEIGHING_PENDING = _(
    "The objection to processing is still being weighed: record the compelling grounds or stop the processing first."
)
ERROR_GROUNDS_NOT_WEIGHED = _(
    "A refusal on compelling legitimate grounds (GDPR article 21(1)) needs a weighing that recorded those grounds."
)


def _last_check(request: DataSubjectRequest):
    return request.register_parts.aggregate(last=Max("checked_at"))["last"]


def _entered_state_at(request: DataSubjectRequest):
    return request.events.filter(action=RequestEvent.Action.TRANSITION).aggregate(last=Max("at"))["last"]


def portability_ineligible_registers(request: DataSubjectRequest) -> list:
    """Return the request's registers whose legal bases include neither consent nor contract (GDPR 20(1))."""
    return [
        part.register
        for part in request.register_parts.select_related("register")
        if not {"a", "b"} & set(part.register.legal_bases or [])
    ]


def weighing_pending(request: DataSubjectRequest) -> ObjectionWeighing | None:
    """Return the request's weighing of an objection (art. 21(1)) still waiting for its outcome, if any."""
    return request.objection_weighings.filter(state=ObjectionWeighing.State.PENDING).first()


def weighing_decided(request: DataSubjectRequest) -> ObjectionWeighing | None:
    """Return the request's latest weighing of an objection with an outcome, if any."""
    decided = request.objection_weighings.exclude(state=ObjectionWeighing.State.PENDING)
    return decided.order_by("-decided_at", "-id").first()


def objection_guard(request: DataSubjectRequest, *, to: str) -> None:
    """Raise ValidationError if an objection would be sent for decision or decided before its weighing (21(1))."""
    if request.kind != Kind.OBJECTION:
        return
    if weighing_pending(request) is not None:
        raise ValidationError(ERROR_WEIGHING_PENDING, code="weighing_pending")
    if to in REFUSAL_STATES:
        refusal = request.refusals.order_by("-decided_at", "-id").first()
        weighed = weighing_decided(request)
        compelling = refusal is not None and RefusalGround.COMPELLING_GROUNDS in refusal.grounds
        if compelling and (weighed is None or weighed.state != ObjectionWeighing.State.COMPELLING_GROUNDS):
            raise ValidationError(ERROR_GROUNDS_NOT_WEIGHED, code="grounds_not_weighed")


def _objection_effect(request: DataSubjectRequest, last_check) -> bool:
    # Marketing stopped (art. 21(3)) or processing weighed (21(1)), after the last register check: either answers.
    actions = [RequestEvent.Action.OBJECTION_APPLIED, RequestEvent.Action.OBJECTION_WEIGHED]
    events = request.events.filter(action__in=actions)
    if last_check:
        events = events.filter(at__gte=last_check)
    return events.exists()


def _review_guard(request: DataSubjectRequest) -> None:
    last_check = _last_check(request)
    if request.kind == Kind.OBJECTION:
        if not _objection_effect(request, last_check):
            raise ValidationError(ERROR_EFFECT_MISSING, code="effect_missing")
    elif request.kind == Kind.ERASURE:
        plans = request.erasure_plans.filter(status=ErasurePlan.Status.DRAFT)
        if last_check:
            plans = plans.filter(computed_at__gte=last_check)
        if not plans.exists():
            raise ValidationError(ERROR_PLAN_MISSING, code="plan_missing")
    elif request.kind == Kind.RECTIFICATION:
        items = request.rectification_items.all()
        if items.filter(status=RectificationItem.Status.PROPOSED).exists():
            raise ValidationError(ERROR_CORRECTIONS_UNDECIDED, code="corrections_undecided")
        if request.matches.exists() and not items.exists():
            raise ValidationError(ERROR_CORRECTIONS_MISSING, code="corrections_missing")
    elif request.kind in EFFECT_ACTIONS:
        events = request.events.filter(action=EFFECT_ACTIONS[request.kind])
        if last_check:
            events = events.filter(at__gte=last_check)
        if not events.exists():
            raise ValidationError(ERROR_EFFECT_MISSING, code="effect_missing")
    elif request.kind == Kind.PORTABILITY and len(portability_ineligible_registers(request)) < (
        request.register_parts.count()
    ):
        packages = request.packages.all()
        if last_check:
            packages = packages.filter(generated_at__gte=last_check)
        if not packages.exists():
            raise ValidationError(ERROR_PORTABLE_DATA_MISSING, code="portable_data_missing")


def _decision_guard(request: DataSubjectRequest, to: str) -> None:
    entered = _entered_state_at(request)
    if to in REFUSAL_STATES:
        refusals = request.refusals.filter(partial=to == State.PARTLY_REFUSED)
        if entered:
            refusals = refusals.filter(decided_at__gte=entered)
        if not refusals.exists():
            raise ValidationError(ERROR_REFUSAL_MISSING, code="refusal_missing")
    if request.kind in RIGHTS_KINDS or to in REFUSAL_STATES:
        letters = request.letters.all()
        if entered:
            letters = letters.filter(created_at__gte=entered)
        if not letters.exists():
            raise ValidationError(ERROR_LETTER_MISSING, code="letter_missing")
    if to != State.RESPONDED:
        return
    if request.kind == Kind.ERASURE and not request.erasure_plans.filter(status=ErasurePlan.Status.EXECUTED).exists():
        raise ValidationError(ERROR_PLAN_NOT_EXECUTED, code="plan_not_executed")
    if (
        request.kind == Kind.RECTIFICATION
        and request.rectification_items.filter(status=RectificationItem.Status.REFUSED).exists()
    ):
        raise ValidationError(ERROR_CORRECTIONS_REFUSED, code="corrections_refused")
    if request.kind == Kind.PORTABILITY and portability_ineligible_registers(request):
        raise ValidationError(ERROR_PORTABILITY_REFUSED, code="portability_refused")


def _close_guard(request: DataSubjectRequest) -> None:
    open_tasks = list(
        request.notification_tasks.filter(status=NotificationTask.Status.OPEN).values_list("recipient", flat=True)
    )
    if open_tasks:
        raise ValidationError(
            ERROR_NOTIFICATIONS_OPEN, code="notifications_open", params={"recipients": ", ".join(open_tasks)}
        )


def rights_guard(*, request: DataSubjectRequest, source: str, to: str) -> None:
    """Raise ValidationError if moving `request` from `source` to `to` would skip a step of arts. 12(4) and 16-21."""
    if to == State.REVIEW or to in DataSubjectRequest.DECISION_STATES:
        objection_guard(request, to=to)
    if to == State.REVIEW:
        _review_guard(request)
    if to in DataSubjectRequest.DECISION_STATES:
        _decision_guard(request, to)
    if to == State.CLOSED:
        _close_guard(request)
