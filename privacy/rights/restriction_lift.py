"""Lifting a restriction of processing, after the person has been told (GDPR 18(3)).

"A data subject who has obtained restriction of processing ... shall be informed by the controller before the
restriction of processing is lifted." A restriction obtained through a request (`services.restriction_apply`)
therefore ends in three steps, each a move of `RestrictionLift` (`TRANSITIONS`) and an event on the request:

1. A handler asks to lift it (`restriction_lift_ask`), on an answered restriction request, with a reason that the
   notice gives the person. The lift is *pending notice*: the records stay restricted, and the customer's page and
   the request's page say so.
2. The notice goes out: an e-mail through the request's outbox, in the requester's language; without an e-mail
   address (or when the e-mail cannot be delivered) the handler prints the letter and records its posting
   (`restriction_lift_posted`). Once the e-mail is sent (the beat task reads `Correspondence.sent_at`) or the
   posting recorded, the lift *waits* until `lift_due_at`.
3. At `lift_due_at` the beat task (`restriction_lifts_advance`) lifts it. A record that is restricted on another
   ground as well (another restriction request still in force, processing stopped after an objection under art.
   21(1), an erasure that kept only what a claim needs) stays restricted, and the event says how many did.

The wait, `settings.RESTRICTION_LIFT_NOTICE_DAYS` (14 days by default), is this project's reading of "before":
a notice the day before would tell the person nothing they could act on. Two weeks lets them answer, contest
the accuracy again, object (art. 21) or complain to the Data Protection Ombudsman while the restriction still
holds, and covers a letter's time in the post; it counts from the sending of the e-mail or the posting.

A pending lift can be cancelled with a reason (the person answered, a new request came).
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import services as crm_services
from crm.models import Customer
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.requests.outbox import correspondence_queue
from privacy.requests.workflow import request_actor_may_act, request_event_add
from registers.state_machine import StateMachine

from .models import ErasureAction, ErasurePlan, ObjectionRecord, RestrictionLift
from .services import matched_customers, require

logger = logging.getLogger("privacy.rights")  # the name operators filter on

State = RestrictionLift.State
Kind = DataSubjectRequest.Kind

TRANSITIONS: dict[str, frozenset[str]] = {
    State.NOTICE_PENDING: frozenset({State.WAITING, State.CANCELLED}),
    State.WAITING: frozenset({State.LIFTED, State.CANCELLED}),
    State.LIFTED: frozenset(),
    State.CANCELLED: frozenset(),
}
MACHINE = StateMachine(
    name="restriction lift",
    states=State,
    transitions=TRANSITIONS,
    illegal_message=_("The lifting of a restriction cannot move from “%(old)s” to “%(new)s”."),
)
# A restriction is lifted only once the request that obtained it has been answered.
LIFTABLE_REQUEST_STATES = frozenset(
    {DataSubjectRequest.State.RESPONDED, DataSubjectRequest.State.PARTLY_REFUSED, DataSubjectRequest.State.CLOSED}
)
DEFAULT_NOTICE_DAYS = 14

ERROR_REASON_REQUIRED = _("Give the reason for lifting the restriction: the notice tells it to the person.")
ERROR_CANCEL_REASON_REQUIRED = _("Give the reason for cancelling the lifting.")
ERROR_NOT_APPLIED = _("This request has not restricted any records.")
ERROR_NOTHING_TO_LIFT = _("None of the person's records is restricted by this request alone: there is nothing to lift.")
ERROR_TOO_EARLY = _("The restriction can be lifted only after the notice and its waiting period, on %(date)s.")
ERROR_NO_PENDING_LIFT = _("No lifting of this restriction is waiting.")
ERROR_HANDLER_RIGHTS = _("You may not handle requests in the registers of this request.")


def notice_days() -> int:
    """Return the days between the notice and the lift (settings.RESTRICTION_LIFT_NOTICE_DAYS)."""
    return getattr(settings, "RESTRICTION_LIFT_NOTICE_DAYS", DEFAULT_NOTICE_DAYS)


def other_grounds(customer: Customer, *, request: DataSubjectRequest) -> list[str]:
    """Return the codes of the grounds other than `request` that keep the customer restricted."""
    grounds = []
    others = (
        DataSubjectRequest.objects.filter(
            kind=Kind.RESTRICTION,
            matches__customer=customer,
            events__action=RequestEvent.Action.RESTRICTION_APPLIED,
        )
        .exclude(pk=request.pk)
        .exclude(restriction_lifts__state=State.LIFTED)
    )
    if others.exists():
        grounds.append("restriction_request")
    if ObjectionRecord.objects.filter(
        customer=customer, contact_person=None, purpose=ObjectionRecord.Purpose.PROCESSING, withdrawn_at=None
    ).exists():
        grounds.append("objection")
    if ErasureAction.objects.filter(
        object_type=ErasureAction.ObjectType.CUSTOMER,
        object_code=customer.code,
        action=ErasureAction.Action.MINIMISE,
        plan__status=ErasurePlan.Status.EXECUTED,
    ).exists():
        grounds.append("erasure_minimised")
    return grounds


def liftable_customers(request: DataSubjectRequest) -> tuple[list[Customer], list[Customer]]:
    """Return (the request's restricted customers to lift, those that stay restricted on another ground)."""
    lift, keep = [], []
    for customer in matched_customers(request):
        if not customer.processing_restricted:
            continue
        (keep if other_grounds(customer, request=request) else lift).append(customer)
    return lift, keep


def lift_pending(request: DataSubjectRequest) -> RestrictionLift | None:
    """Return the request's lift that is still to come, if any."""
    return request.restriction_lifts.filter(state__in=RestrictionLift.PENDING_STATES).first()


def lift_pending_for_customer(customer: Customer) -> RestrictionLift | None:
    """Return the pending lift of a restriction on the customer, for its page's badge."""
    return (
        RestrictionLift.objects.filter(state__in=RestrictionLift.PENDING_STATES, request__matches__customer=customer)
        .order_by("asked_at")
        .first()
    )


def _require_handler(*, actor, request: DataSubjectRequest) -> None:
    if not request_actor_may_act(actor=actor, request=request):
        raise PermissionDenied(ERROR_HANDLER_RIGHTS)


@transaction.atomic
def restriction_lift_ask(*, request: DataSubjectRequest, actor, reason: str) -> RestrictionLift:
    """Ask to lift the restriction the request obtained: the person is told first, the lift waits (art. 18(3))."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    _require_handler(actor=actor, request=current)
    require(current, kinds=(Kind.RESTRICTION,), states=LIFTABLE_REQUEST_STATES)
    if not (reason or "").strip():
        raise ValidationError({"reason": ERROR_REASON_REQUIRED}, code="reason_required")
    if not current.events.filter(action=RequestEvent.Action.RESTRICTION_APPLIED).exists():
        raise ValidationError(ERROR_NOT_APPLIED, code="not_applied")
    to_lift, _kept = liftable_customers(current)
    if not to_lift:
        raise ValidationError(ERROR_NOTHING_TO_LIFT, code="nothing_to_lift")
    lift = RestrictionLift(request=current, reason=reason.strip(), asked_at=timezone.now(), asked_by=actor)
    lift.full_clean()
    kind = Correspondence.Kind.RESTRICTION_LIFT_NOTICE
    notice = correspondence_queue(request=current, kind=kind, message=lift.reason)
    lift.notice = notice
    lift.notice_channel = RestrictionLift.NoticeChannel.EMAIL if notice else RestrictionLift.NoticeChannel.POST
    lift.save()
    request_event_add(
        request=current,
        actor=actor,
        action=RequestEvent.Action.RESTRICTION_LIFT_ASKED,
        reason=lift.reason,
        payload={"lift": str(lift.code), "channel": lift.notice_channel, "records": len(to_lift)},
    )
    return lift


def _customers_lift(lift: RestrictionLift) -> tuple[list[Customer], list[Customer]]:
    to_lift, kept = liftable_customers(lift.request)
    # Changed in the name of the handler who decided the lift: the customer's history shows who.
    lifted = [
        crm_services.customer_restriction_set(actor=lift.asked_by, customer=customer, restricted=False)
        for customer in to_lift
    ]
    return lifted, kept


@transaction.atomic
def restriction_lift_transition(
    *, lift: RestrictionLift, to: str, actor, reason: str = "", sent_at: datetime.datetime | None = None
) -> RestrictionLift:
    """Move a lift, or raise ValidationError: the one place that sets its state, with an event on the request."""
    current = RestrictionLift.objects.select_for_update().select_related("request").get(pk=lift.pk)
    source = current.state
    MACHINE.check(source, to)
    now = timezone.now()
    payload = {"lift": str(current.code), "from": source, "to": to}
    typed = ""
    if to == State.WAITING:
        current.notice_sent_at = sent_at or now
        current.lift_due_at = current.notice_sent_at + datetime.timedelta(days=notice_days())
        action = RequestEvent.Action.RESTRICTION_LIFT_NOTICE_SENT
        payload.update(channel=current.notice_channel, lift_due_at=current.lift_due_at.isoformat())
    elif to == State.LIFTED:
        if current.lift_due_at is None or now < current.lift_due_at:
            due = timezone.localdate(current.lift_due_at) if current.lift_due_at else None
            raise ValidationError(ERROR_TOO_EARLY, code="too_early", params={"date": due})
        lifted, kept = _customers_lift(current)
        current.lifted_at = now
        action = RequestEvent.Action.RESTRICTION_LIFTED
        payload.update(records=len(lifted), kept=len(kept), registers=sorted({c.register.slug for c in lifted}))
    else:
        if not (reason or "").strip():
            raise ValidationError({"reason": ERROR_CANCEL_REASON_REQUIRED}, code="reason_required")
        current.cancelled_at = now
        current.cancelled_by = actor
        current.cancel_reason = typed = reason.strip()
        action = RequestEvent.Action.RESTRICTION_LIFT_CANCELLED
    current.state = to
    current.full_clean()
    current.save()
    request_event_add(request=current.request, actor=actor, action=action, reason=typed, payload=payload)
    return current


@transaction.atomic
def restriction_lift_posted(*, request: DataSubjectRequest, actor) -> RestrictionLift:
    """Record that the notice was posted today as a letter: the waiting period starts now."""
    _require_handler(actor=actor, request=request)
    lift = request.restriction_lifts.select_for_update().filter(state=State.NOTICE_PENDING).first()
    if lift is None:
        raise ValidationError(ERROR_NO_PENDING_LIFT, code="no_pending_lift")
    lift.notice_channel = RestrictionLift.NoticeChannel.POST
    lift.save(update_fields=["notice_channel", "updated_at"])
    return restriction_lift_transition(lift=lift, to=State.WAITING, actor=actor)


@transaction.atomic
def restriction_lift_cancel(*, request: DataSubjectRequest, actor, reason: str) -> RestrictionLift:
    """Cancel a lift that has not happened yet; the records stay restricted."""
    _require_handler(actor=actor, request=request)
    lift = request.restriction_lifts.select_for_update().filter(state__in=RestrictionLift.PENDING_STATES).first()
    if lift is None:
        raise ValidationError(ERROR_NO_PENDING_LIFT, code="no_pending_lift")
    return restriction_lift_transition(lift=lift, to=State.CANCELLED, actor=actor, reason=reason)


def _advance(lift_id: int, *, to: str) -> bool:
    with transaction.atomic():
        lift = RestrictionLift.objects.select_for_update(skip_locked=True).filter(pk=lift_id).first()
        if lift is None or not MACHINE.allows(lift.state, to):
            # Taken by a parallel run, or moved since it was listed.
            return False
        if to == State.WAITING:
            sent_at = Correspondence.objects.filter(pk=lift.notice_id).values_list("sent_at", flat=True).first()
            if sent_at is None:
                return False
            restriction_lift_transition(lift=lift, to=to, actor=None, sent_at=sent_at)
        else:
            restriction_lift_transition(lift=lift, to=to, actor=None)
    return True


def restriction_lifts_advance() -> dict[str, int]:
    """Start the wait of each lift whose e-mail notice has been sent, and lift each whose wait is over.

    Run by Celery beat; running it again changes nothing more. Returns how many lifts moved to each state.
    """
    now = timezone.now()
    sent = RestrictionLift.objects.filter(state=State.NOTICE_PENDING, notice__sent_at__isnull=False)
    due = RestrictionLift.objects.filter(state=State.WAITING, lift_due_at__lte=now)
    counts = {State.WAITING.value: 0, State.LIFTED.value: 0}
    for to, queryset in ((State.WAITING, sent), (State.LIFTED, due)):
        for lift_id in list(queryset.order_by("pk").values_list("pk", flat=True)):
            try:
                counts[to.value] += int(_advance(lift_id, to=to))
            except ValidationError:
                logger.warning("Restriction lift %s could not move to %s.", lift_id, to.value)
    return counts


def restriction_lift_letter_context(*, request: DataSubjectRequest, lift: RestrictionLift) -> dict:
    """Return what the posted notice says (render inside translation.override(request.language))."""
    return {
        "request": request,
        "organisation": request.organisation,
        "lift": lift,
        "date": timezone.localdate(),
        "lift_on": timezone.localdate() + datetime.timedelta(days=notice_days()),
        "registers": [part.register.name for part in request.register_parts.select_related("register")],
    }
