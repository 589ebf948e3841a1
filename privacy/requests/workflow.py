"""The one state machine of data-subject requests (PRIVACY.md §2).

`TRANSITIONS` lists every legal move (checked by `MACHINE`, the shared
mechanism of registers.state_machine); `request_transition` is the only code
that changes `DataSubjectRequest.state`, checks the guard of the target state,
stamps the dates that belong to it and appends a `RequestEvent`. Deadlines
are set here too: the legal clock (GDPR 12(3)) never stops, so holds and
requests for more information are events, not pauses.
"""

import datetime
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.audit_context import set_actor
from registers.state_machine import StateMachine

from . import selectors
from .models import DataSubjectRequest, RequestEvent
from .outbox import correspondence_queue

State = DataSubjectRequest.State

TRANSITIONS: dict[str, frozenset[str]] = {
    State.RECEIVED: frozenset({State.VERIFYING, State.WITHDRAWN, State.DUPLICATE, State.CANNOT_IDENTIFY}),
    State.VERIFYING: frozenset({State.TRIAGE, State.CANNOT_IDENTIFY, State.ON_HOLD, State.WITHDRAWN, State.DUPLICATE}),
    State.TRIAGE: frozenset({State.IN_PROGRESS, State.ON_HOLD, State.DUPLICATE, State.WITHDRAWN, State.REFUSED}),
    State.IN_PROGRESS: frozenset({State.REVIEW, State.ON_HOLD, State.WITHDRAWN, State.REFUSED, State.PARTLY_REFUSED}),
    State.ON_HOLD: frozenset({State.VERIFYING, State.IN_PROGRESS, State.WITHDRAWN, State.CANNOT_IDENTIFY}),
    State.REVIEW: frozenset({State.RESPONDED, State.IN_PROGRESS, State.REFUSED, State.PARTLY_REFUSED, State.WITHDRAWN}),
    State.RESPONDED: frozenset({State.CLOSED}),
    State.REFUSED: frozenset({State.CLOSED}),
    State.PARTLY_REFUSED: frozenset({State.CLOSED}),
    # More information from the person reopens identification (GDPR 11(2)).
    State.CANNOT_IDENTIFY: frozenset({State.VERIFYING, State.CLOSED}),
    State.DUPLICATE: frozenset(),
    State.WITHDRAWN: frozenset(),
    State.CLOSED: frozenset(),
}
MACHINE = StateMachine(
    name="data-subject request",
    states=State,
    transitions=TRANSITIONS,
    illegal_message=_("A request cannot move from “%(old)s” to “%(new)s”."),
)
# The page's own forms for the moves that have one (the plain moves share one
# form, SIMPLE_MOVES); the request page offers a form only where the table
# allows its move from the current state.
FORM_MOVES = {
    "verify": State.TRIAGE,
    "cannot_identify": State.CANNOT_IDENTIFY,
    "prepare": State.REVIEW,
    "approve": State.RESPONDED,
    "duplicate": State.DUPLICATE,
}
SIMPLE_MOVES = frozenset({State.IN_PROGRESS, State.ON_HOLD, State.VERIFYING, State.WITHDRAWN, State.CLOSED})

# Decisions on the answer (DataSubjectRequest.DECISION_STATES) are the register
# owner's (seed 000: the owner decides on access requests); every other move is the handler's.
DECISION_STATES = DataSubjectRequest.DECISION_STATES
# Moves that need a written reason, shown to auditors and, where a letter
# follows, to the requester.
REASON_REQUIRED = frozenset(
    {State.ON_HOLD, State.CANNOT_IDENTIFY, State.WITHDRAWN, State.REFUSED, State.PARTLY_REFUSED}
)
# Moves the requester (no staff actor) may make: confirming the e-mail
# address (which folds a repeat of a confirmed request into it as a
# duplicate) and withdrawing the request.
REQUESTER_MOVES = frozenset(
    {(State.RECEIVED, State.VERIFYING), (State.RECEIVED, State.DUPLICATE), ("*", State.WITHDRAWN)}
)
END_STATES = frozenset({State.CLOSED, State.WITHDRAWN, State.DUPLICATE})

ERROR_REASON_REQUIRED = _("Give the reason for this step.")
ERROR_EMAIL_NOT_CONFIRMED = _("The requester has not confirmed the e-mail address yet.")
ERROR_IDENTITY_NOT_VERIFIED = _("Record how the requester's identity was verified before processing the request.")
ERROR_MANDATE_MISSING = _("The requester acts on behalf of someone else: the mandate document is missing.")
ERROR_REGISTERS_UNCHECKED = _("Check every register of the request for the person's data first: %(registers)s.")
ERROR_PACKAGE_MISSING = _("Build the answer package after the last register check before sending it for approval.")
ERROR_FOUR_EYES = _("The answer must be approved by someone other than the people who prepared it.")
ERROR_APPROVER_RIGHTS = _("Only someone who may approve answers in every register of the request can decide it.")
ERROR_HANDLER_RIGHTS = _("You may not handle requests in the registers of this request.")
ERROR_DUPLICATE_OF_MISSING = _("Choose the request this one duplicates.")
ERROR_EXTENSION_TWICE = _("The deadline of a request can be extended only once.")
ERROR_EXTENSION_LATE = _("The deadline can no longer be extended: the one-month deadline has already passed.")
ERROR_EXTENSION_CLOSED = _("Only an open request can be extended.")
ERROR_RECEIVED_IN_FUTURE = _("The date of receipt cannot be in the future.")

# Checks that the parts of privacy carrying out a request's rights add at start-up
# (privacy.rights: refusal grounds, art. 19 notifications, the work of arts. 16-21;
# see PrivacyConfig.ready), so that the workflow does not import them. Each takes
# (request=, source=, to=) and raises ValidationError to refuse the move.
TRANSITION_GUARDS: list[Callable[..., None]] = []

EXTENSION = relativedelta(months=2)
LEGAL_PERIOD = relativedelta(months=1)


def deadlines_for(
    *, received_at: datetime.datetime, kind: str, answer_days: list[int]
) -> tuple[datetime.datetime, datetime.datetime]:
    """Return (service deadline, legal deadline) for a request received at `received_at`.

    The legal deadline is one calendar month (GDPR 12(3)), counted in Finnish
    local time: 31 January gives the last day of February. The service
    deadline is the shortest answer time the registers promise for access
    (seed 000: one week), never later than the legal one.
    """
    local = timezone.localtime(received_at)
    legal = local + LEGAL_PERIOD
    service = legal
    if kind == DataSubjectRequest.Kind.ACCESS and answer_days:
        service = min(legal, local + datetime.timedelta(days=min(answer_days)))
    return service, legal


def _identified_by_the_person(request: DataSubjectRequest) -> bool:
    # Filed on the "my data" pages after strong electronic identification: the sign-in was the identity check.
    return (
        request.channel == DataSubjectRequest.Channel.MY_DATA
        and request.identity_method == DataSubjectRequest.IdentityMethod.STRONG_EID
    )


def _guard_actor(*, request: DataSubjectRequest, actor, source: str, to: str) -> None:
    if actor is None:
        if (source, to) in REQUESTER_MOVES or ("*", to) in REQUESTER_MOVES:
            return
        if (source, to) == (State.VERIFYING, State.TRIAGE) and _identified_by_the_person(request):
            return
        raise PermissionDenied(ERROR_HANDLER_RIGHTS)
    if to in DECISION_STATES:
        if not selectors.actor_holds(actor=actor, request=request, perm=roles.APPROVE_REQUESTS, every=True):
            raise PermissionDenied(ERROR_APPROVER_RIGHTS)
    elif not request_actor_may_act(actor=actor, request=request):
        raise PermissionDenied(ERROR_HANDLER_RIGHTS)


def request_actor_may_act(*, actor, request: DataSubjectRequest) -> bool:
    """Tell whether the actor may take a step of the whole request: request rights in every one of its registers."""
    return selectors.actor_holds(
        actor=actor, request=request, perm=roles.HANDLE_REQUESTS, every=True
    ) or selectors.actor_holds(actor=actor, request=request, perm=roles.APPROVE_REQUESTS, every=True)


def _guard_state(*, request: DataSubjectRequest, actor, source: str, to: str, reason: str) -> None:
    if to in REASON_REQUIRED and not reason.strip():
        raise ValidationError({"reason": ERROR_REASON_REQUIRED}, code="reason_required")
    if to == State.VERIFYING and source == State.RECEIVED:
        if request.channel == DataSubjectRequest.Channel.WEB and request.email_confirmed_at is None:
            raise ValidationError(ERROR_EMAIL_NOT_CONFIRMED, code="email_not_confirmed")
        if request.received_at and request.received_at > timezone.now():
            raise ValidationError(ERROR_RECEIVED_IN_FUTURE, code="received_in_future")
    if to == State.TRIAGE:
        if not request.identity_method or request.verified_at is None:
            raise ValidationError(ERROR_IDENTITY_NOT_VERIFIED, code="identity_not_verified")
        if request.acting_for and not request.mandate:
            raise ValidationError(ERROR_MANDATE_MISSING, code="mandate_missing")
    if to == State.IN_PROGRESS and source == State.REVIEW and not reason.strip():
        raise ValidationError({"reason": ERROR_REASON_REQUIRED}, code="reason_required")
    if to == State.REVIEW:
        unchecked = [
            part.register.name for part in request.register_parts.select_related("register") if not part.checked_at
        ]
        if unchecked:
            raise ValidationError(
                ERROR_REGISTERS_UNCHECKED, code="registers_unchecked", params={"registers": ", ".join(unchecked)}
            )
        if request.kind == DataSubjectRequest.Kind.ACCESS:
            last_check = request.register_parts.aggregate(last=Max("checked_at"))["last"]
            package = request.packages.order_by("-generated_at").first()
            if package is None or (last_check and package.generated_at < last_check):
                raise ValidationError(ERROR_PACKAGE_MISSING, code="package_missing")
    if to in DECISION_STATES:
        preparers = set(request.register_parts.exclude(checked_by=None).values_list("checked_by", flat=True))
        if request.prepared_by_id:
            preparers.add(request.prepared_by_id)
        if actor.pk in preparers:
            raise ValidationError(ERROR_FOUR_EYES, code="four_eyes")
    if to == State.RESPONDED and request.kind == DataSubjectRequest.Kind.ACCESS and not request.packages.exists():
        raise ValidationError(ERROR_PACKAGE_MISSING, code="package_missing")
    if to == State.DUPLICATE and request.duplicate_of_id is None:
        raise ValidationError(ERROR_DUPLICATE_OF_MISSING, code="duplicate_of_missing")
    for guard in TRANSITION_GUARDS:
        guard(request=request, source=source, to=to)


def _apply_effects(*, request: DataSubjectRequest, actor, source: str, to: str, now: datetime.datetime) -> None:
    if to == State.VERIFYING and request.received_at is None:
        request.received_at = now
    if to == State.VERIFYING and request.legal_due_at is None:
        answer_days = list(request.registers.values_list("access_answer_days", flat=True))
        request.service_due_at, request.legal_due_at = deadlines_for(
            received_at=request.received_at, kind=request.kind, answer_days=answer_days
        )
    if to == State.REVIEW:
        request.prepared_by = actor
        request.prepared_at = now
    if to in DECISION_STATES:
        request.approved_by = actor
        request.approved_at = now
    if to in DataSubjectRequest.ANSWER_STATES:
        request.responded_at = now
    if to in DataSubjectRequest.ANSWER_STATES or to in {State.WITHDRAWN, State.DUPLICATE}:
        request.outcome = to
    if to in END_STATES:
        request.closed_at = now


@transaction.atomic
def request_transition(
    *, request: DataSubjectRequest, to: str, actor, reason: str = "", payload: dict | None = None
) -> DataSubjectRequest:
    """Move a request to state `to`, or raise ValidationError/PermissionDenied if the move is not allowed.

    `reason` is what a person typed; the system explains its own moves with
    codes in `payload` (`RequestEvent.Note` in `payload["note"]`, identifiers),
    worded when read, in the reader's language.
    """
    payload = payload or {}
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    source = current.state
    MACHINE.check(source, to)
    _guard_actor(request=current, actor=actor, source=source, to=to)
    # A system note explains a move (the requester's withdrawal) as a typed reason does.
    explained = reason if reason.strip() else payload.get("note", "")
    _guard_state(request=current, actor=actor, source=source, to=to, reason=explained)
    now = timezone.now()
    _apply_effects(request=current, actor=actor, source=source, to=to, now=now)
    current.state = to
    current.full_clean()
    current._via_workflow = True
    try:
        with set_actor(actor):
            current.save()
    finally:
        current._via_workflow = False
    RequestEvent.objects.create(
        request=current, at=now, actor=actor, from_state=source, to_state=to, reason=reason.strip(), payload=payload
    )
    request_instance_sync(request, current)
    return current


def request_instance_sync(stale: DataSubjectRequest, fresh: DataSubjectRequest) -> None:
    """Copy the stored values of `fresh` onto the caller's instance of the same request."""
    for field in fresh._meta.concrete_fields:
        setattr(stale, field.attname, getattr(fresh, field.attname))
    stale._loaded_state = fresh.state


def request_event_add(
    *, request: DataSubjectRequest, actor, action: str, reason: str = "", payload: dict | None = None
) -> RequestEvent:
    """Append a non-moving event (an action on the request) to its trail."""
    return RequestEvent.objects.create(
        request=request,
        at=timezone.now(),
        actor=actor,
        action=action,
        from_state=request.state,
        to_state=request.state,
        reason=reason,
        payload=payload or {},
    )


@transaction.atomic
def request_extend(*, request: DataSubjectRequest, actor, reason: str) -> DataSubjectRequest:
    """Extend the legal deadline by two months: once, before it passes, with reasons (GDPR 12(3))."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    _guard_actor(request=current, actor=actor, source=current.state, to=current.state)
    if not reason.strip():
        raise ValidationError({"reason": ERROR_REASON_REQUIRED}, code="reason_required")
    if current.extended_at is not None:
        raise ValidationError(ERROR_EXTENSION_TWICE, code="extension_twice")
    if not current.is_open or current.legal_due_at is None:
        raise ValidationError(ERROR_EXTENSION_CLOSED, code="extension_closed")
    now = timezone.now()
    if now >= current.legal_due_at:
        raise ValidationError(ERROR_EXTENSION_LATE, code="extension_late")
    # Counted from receipt so that 31 January gives 30 April, not 28 April.
    current.legal_due_at = timezone.localtime(current.received_at) + (LEGAL_PERIOD + EXTENSION)
    # The service promise cannot outlast the reason for extending.
    current.service_due_at = current.legal_due_at
    current.extended_at = now
    current.extended_by = actor
    current.extension_reason = reason.strip()
    current.full_clean()
    with set_actor(actor):
        current.save(
            update_fields=[
                "legal_due_at",
                "service_due_at",
                "extended_at",
                "extended_by",
                "extension_reason",
                "updated_at",
            ]
        )
    request_event_add(
        request=current,
        actor=actor,
        action=RequestEvent.Action.EXTENSION,
        reason=current.extension_reason,
        payload={"legal_due_at": current.legal_due_at.isoformat()},
    )
    correspondence_queue(request=current, kind="extension_notice", message=current.extension_reason)
    request_instance_sync(request, current)
    return current
