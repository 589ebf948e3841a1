"""Weighing an objection to processing for a public task or legitimate interests (GDPR 21(1)).

Unlike an objection to direct marketing (absolute, `services.objection_apply`), such an objection is weighed: the
controller "shall no longer process the personal data unless the controller demonstrates compelling legitimate
grounds for the processing which override the interests, rights and freedoms of the data subject". The handler
opens the weighing on a request in progress, in the registers kept on art. 6(1)(e) or (f), and records one of two
outcomes, with who and when (`ObjectionWeighing`, its moves in `TRANSITIONS`, each a request event):

- compelling grounds: the grounds in words; the answer is then a refusal on ground gdpr_21_1 (partial when direct
  marketing was also stopped), and the letter tells the person the grounds and how to complain;
- processing stopped: the person's customer records in those registers are restricted to storage (the restriction
  of processing is the mechanism that stops every use: edits, exports, mailings, disclosures), each with an
  objection record of purpose "processing". A contact person's record cannot be restricted on its own; the
  objection record says that they object, and the letter names the registers.

While a weighing is pending the request can be neither sent for decision nor decided (`guards.objection_guard`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import services as crm_services
from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.requests.workflow import request_event_add
from registers.audit_context import set_actor
from registers.models import LegalBasis
from registers.state_machine import StateMachine

from .models import ConsentRecord, ObjectionRecord, ObjectionWeighing
from .services import matched_customers, require

State = ObjectionWeighing.State
Kind = DataSubjectRequest.Kind

TRANSITIONS: dict[str, frozenset[str]] = {
    State.PENDING: frozenset({State.COMPELLING_GROUNDS, State.PROCESSING_STOPPED}),
    State.COMPELLING_GROUNDS: frozenset(),
    State.PROCESSING_STOPPED: frozenset(),
}
MACHINE = StateMachine(
    name="objection weighing",
    states=State,
    transitions=TRANSITIONS,
    illegal_message=_("The weighing of an objection cannot move from “%(old)s” to “%(new)s”."),
)
# Art. 21(1) covers processing based on art. 6(1)(e) or (f) only.
WEIGHED_BASES = frozenset({LegalBasis.PUBLIC_TASK, LegalBasis.LEGITIMATE_INTERESTS})

ERROR_NO_WEIGHED_BASIS = _(
    "An objection under GDPR article 21(1) concerns only processing for a task in the public interest or for "
    "legitimate interests (article 6(1)(e) or (f)), and no register of this request is kept on either basis."
)
ERROR_NO_PENDING_WEIGHING = _("No weighing of an objection is open on this request.")


def weighed_registers(request: DataSubjectRequest) -> list:
    """Return the request's registers kept on art. 6(1)(e) or (f), where art. 21(1) applies."""
    return [
        part.register
        for part in request.register_parts.select_related("register").order_by("register__slug")
        if WEIGHED_BASES & set(part.register.legal_bases or [])
    ]


@transaction.atomic
def objection_weighing_open(*, request: DataSubjectRequest, actor) -> ObjectionWeighing:
    """Start weighing the person's objection to processing (art. 21(1)); the request waits for its outcome."""
    require(request, kinds=(Kind.OBJECTION,), states=(DataSubjectRequest.State.IN_PROGRESS,))
    registers = weighed_registers(request)
    if not registers:
        raise ValidationError(ERROR_NO_WEIGHED_BASIS, code="no_weighed_basis")
    weighing = ObjectionWeighing(request=request, opened_at=timezone.now(), opened_by=actor)
    weighing.full_clean()
    weighing.save()
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.OBJECTION_WEIGHING_OPENED,
        payload={"weighing": str(weighing.code), "registers": [r.slug for r in registers]},
    )
    return weighing


@transaction.atomic
def objection_weighing_transition(
    *, weighing: ObjectionWeighing, to: str, actor, reason: str = "", payload: dict | None = None
) -> ObjectionWeighing:
    """Move a weighing to its outcome, or raise ValidationError; the request's trail gets the step and the reason."""
    current = ObjectionWeighing.objects.select_for_update().get(pk=weighing.pk)
    source = current.state
    MACHINE.check(source, to)
    current.state = to
    current.decided_at = timezone.now()
    current.decided_by = actor
    if to == State.COMPELLING_GROUNDS:
        current.grounds_text = (reason or "").strip()
    current.full_clean()
    with set_actor(actor):
        current.save(update_fields=["state", "decided_at", "decided_by", "grounds_text", "updated_at"])
    request_event_add(
        request=current.request,
        actor=actor,
        action=RequestEvent.Action.OBJECTION_WEIGHED,
        reason=current.grounds_text,
        payload={"weighing": str(current.code), "from": source, "to": to, **(payload or {})},
    )
    return current


def _processing_stop(*, request: DataSubjectRequest, actor, registers) -> list[ObjectionRecord]:
    """Restrict the person's customer records in `registers` and record the objection on each confirmed record."""
    now = timezone.now()
    wanted = {register.pk for register in registers}
    channel = request.channel if request.channel in ConsentRecord.Channel.values else ConsentRecord.Channel.REQUEST
    common = {
        "purpose": ObjectionRecord.Purpose.PROCESSING,
        "given_at": now,
        "channel": channel,
        "request": request,
        "recorded_by": actor,
    }
    records = []
    for customer in matched_customers(request):
        if customer.register_id not in wanted:
            continue
        crm_services.customer_restriction_set(actor=actor, customer=customer, restricted=True)
        records.append(ObjectionRecord.objects.create(customer=customer, register=customer.register, **common))
    persons = request.matches.exclude(contact_person=None).select_related("contact_person__customer__register")
    for match in persons:
        person = match.contact_person
        if person.customer.register_id in wanted:
            records.append(
                ObjectionRecord.objects.create(
                    customer=person.customer, contact_person=person, register=person.customer.register, **common
                )
            )
    return records


@transaction.atomic
def objection_weighing_decide(
    *, request: DataSubjectRequest, actor, outcome: str, grounds_text: str = ""
) -> ObjectionWeighing:
    """Record the outcome of the weighing: the compelling grounds in words, or stop the processing at once."""
    require(request, kinds=(Kind.OBJECTION,), states=(DataSubjectRequest.State.IN_PROGRESS,))
    weighing = request.objection_weighings.select_for_update().filter(state=State.PENDING).first()
    if weighing is None:
        raise ValidationError(ERROR_NO_PENDING_WEIGHING, code="no_pending_weighing")
    payload = {}
    if outcome == State.PROCESSING_STOPPED:
        registers = weighed_registers(request)
        records = _processing_stop(request=request, actor=actor, registers=registers)
        payload = {"records": len(records), "registers": sorted({r.register.slug for r in records})}
    reason = grounds_text if outcome == State.COMPELLING_GROUNDS else ""
    return objection_weighing_transition(weighing=weighing, to=outcome, actor=actor, reason=reason, payload=payload)
