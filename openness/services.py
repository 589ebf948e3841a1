"""State changes of document requests: one function per action, each in one transaction, each leaving an event.

Handlers of the authority's registers take a request up, give the documents or refuse; a refusal is told to the
requester with its reason and the question whether they want a written decision (14(3) §), which the competent
office holder then makes with the instructions for appeal. The clock is two weeks, or one month with a reason
that the requester is told (14(4) §).
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers.audit_context import set_actor
from registers.models import Organisation, Register
from registers.year_counters import year_counter_next

from . import selectors
from .models import DiaryCounter, DocumentRequest, DocumentRequestEvent
from .workflow import MACHINE, deadline_for


def _tell_requester(request: DocumentRequest, kind: str) -> None:
    # After the commit, in the background: the letter is a PDF, and a mail server's delay must not hold the step.
    from .tasks import requester_tell

    transaction.on_commit(lambda: requester_tell.delay(request.pk, kind))


State = DocumentRequest.State
Outcome = DocumentRequest.Outcome

ERROR_RIGHTS = _("You may not handle this document request.")
ERROR_DECIDER = _("Only the owner of the registers concerned may make the written decision.")
ERROR_REASON = _("Give the reason.")
ERROR_EXTENDED = _("The time can be extended to one month only once, and only before the two weeks have passed.")
ERROR_PURPOSE_NEEDED = _(
    "Personal data from a personal data file is given only for a stated use: tell who you are and what you will use "
    "the data for (Act 621/1999 13(2) §)."
)
ERROR_OUTCOME = _("Choose how the request was answered.")
ERROR_NOT_DECIDED = _("Only a request with a written decision can be appealed.")
ERROR_REGISTERS_OF_ANOTHER = _("Choose personal data files of this authority only.")
ERROR_RECEIVED_FUTURE = _("The date of receipt cannot be in the future.")

ERROR_FEE = _("Access given by e-mail or at the office is free of charge (34 §); a fee for copies needs its basis.")
# 34 §: documents shown at the office or sent by e-mail cost nothing.
FREE_DELIVERIES = (DocumentRequest.Delivery.EMAIL, DocumentRequest.Delivery.VIEWING)
ANSWER_OUTCOMES = (Outcome.GRANTED, Outcome.PARTLY_GRANTED, Outcome.NOT_HELD)
DECISION_OUTCOMES = (Outcome.GRANTED, Outcome.PARTLY_GRANTED, Outcome.REFUSED, Outcome.NOT_HELD)


def _diary_number_next(*, year: int) -> str:
    return f"DOC-{year}-{year_counter_next(DiaryCounter, year=year):06d}"


def _event(request: DocumentRequest, *, actor, action=DocumentRequestEvent.Action.TRANSITION, source="", to="", **kw):
    DocumentRequestEvent.objects.create(
        request=request,
        at=timezone.now(),
        actor=actor,
        action=action,
        from_state=source,
        to_state=to or request.state,
        reason=kw.get("reason", ""),
        payload=kw.get("payload", {}),
    )


def _create(*, organisation: Organisation, registers: list[Register], data: dict[str, Any], channel: str, actor):
    if any(register.organisation_id != organisation.pk for register in registers):
        raise ValidationError({"registers": ERROR_REGISTERS_OF_ANOTHER})
    if registers and not (data.get("purpose") and data.get("requester_name")):
        raise ValidationError({"purpose": ERROR_PURPOSE_NEEDED})
    received_at = data.pop("received_at", None) or timezone.now()
    if received_at > timezone.now():
        raise ValidationError({"received_on": ERROR_RECEIVED_FUTURE})
    request = DocumentRequest(
        organisation=organisation,
        channel=channel,
        received_at=received_at,
        due_at=deadline_for(received_at=received_at, extended=False),
        diary_number=_diary_number_next(year=timezone.localtime(received_at).year),
        created_by=actor,
        **data,
    )
    request.full_clean()
    with set_actor(actor):
        request.save()
        request.registers.set(registers)
    _event(request, actor=actor, payload={"channel": channel, "registers": sorted(r.slug for r in registers)})
    return request


@transaction.atomic
def document_request_submit(*, organisation: Organisation, registers: list[Register], data: dict) -> DocumentRequest:
    """A request made on the public form: in writing, received now, the two weeks running."""
    return _create(
        organisation=organisation, registers=registers, data=data, channel=DocumentRequest.Channel.WEB, actor=None
    )


@transaction.atomic
def document_request_intake(
    *, actor, organisation: Organisation, registers: list[Register], data: dict
) -> DocumentRequest:
    """A request received by e-mail, letter, in person or by phone, recorded by a handler of the authority."""
    if organisation not in selectors.intake_organisations(user=actor):
        raise PermissionDenied(ERROR_RIGHTS)
    data = dict(data)
    channel = data.pop("channel")
    return _create(organisation=organisation, registers=registers, data=data, channel=channel, actor=actor)


def _locked(request: DocumentRequest, actor) -> DocumentRequest:
    if not selectors.document_request_list(user=actor).filter(pk=request.pk).exists():
        raise PermissionDenied(ERROR_RIGHTS)
    return DocumentRequest.objects.select_for_update().get(pk=request.pk)


def _move(current: DocumentRequest, *, to: str, actor, reason: str = "", payload: dict | None = None):
    source = current.state
    MACHINE.check(source, to)
    now = timezone.now()
    current.state = to
    if to == State.ANSWERED:
        current.answered_at = now
    if to in (State.CLOSED, State.WITHDRAWN, State.TRANSFERRED):
        current.closed_at = now
    current.full_clean()
    with set_actor(actor):
        current.save()
    _event(current, actor=actor, source=source, to=to, reason=reason, payload=payload or {})
    return current


@transaction.atomic
def document_request_take_up(*, actor, request: DocumentRequest) -> DocumentRequest:
    return _move(_locked(request, actor), to=State.IN_REVIEW, actor=actor)


@transaction.atomic
def document_request_extend(*, actor, request: DocumentRequest, reason: str, note: str = "") -> DocumentRequest:
    """One month instead of two weeks (14(4) §), with the reason, which the requester is told."""
    current = _locked(request, actor)
    if reason not in DocumentRequest.ExtensionReason.values:
        raise ValidationError({"reason": ERROR_REASON})
    if current.extended_at or current.state not in DocumentRequest.CLOCK_STATES or current.due_at < timezone.now():
        raise ValidationError(ERROR_EXTENDED, code="extended")
    current.extended_at = timezone.now()
    current.extension_reason = reason
    current.due_at = deadline_for(received_at=current.received_at, extended=True)
    with set_actor(actor):
        current.save()
    _event(
        current,
        actor=actor,
        action=DocumentRequestEvent.Action.EXTENSION,
        source=current.state,
        reason=note,
        payload={"reason": reason, "due": current.due_at.isoformat()},
    )
    _tell_requester(current, "extension")
    return current


@transaction.atomic
def document_request_answer(
    *, actor, request: DocumentRequest, outcome: str, delivery: str, fee_amount: Decimal | None = None, fee_basis=""
) -> DocumentRequest:
    """The official gives the documents, in whole or with the secret parts removed, or tells that none is held."""
    current = _locked(request, actor)
    if outcome not in ANSWER_OUTCOMES or (outcome != Outcome.NOT_HELD and not delivery):
        raise ValidationError({"outcome": ERROR_OUTCOME})
    if fee_amount and (delivery in FREE_DELIVERIES or not fee_basis.strip()):
        raise ValidationError({"fee_amount": ERROR_FEE})
    current.outcome = outcome
    current.delivery = delivery if outcome != Outcome.NOT_HELD else ""
    current.fee_amount = fee_amount
    current.fee_basis = fee_basis
    return _move(current, to=State.ANSWERED, actor=actor, payload={"outcome": outcome})


@transaction.atomic
def document_request_refuse(*, actor, request: DocumentRequest, reason: str) -> DocumentRequest:
    """The official refuses (14(3) §): the requester is told the reason and asked whether they want the matter
    decided in writing by the authority, with instructions for appeal."""
    current = _locked(request, actor)
    if not reason.strip():
        raise ValidationError({"reason": ERROR_REASON})
    current.refusal_reason = reason
    current.outcome = Outcome.REFUSED
    current = _move(current, to=State.AWAITING_CHOICE, actor=actor, reason=reason)
    _tell_requester(current, "refusal")
    return current


@transaction.atomic
def document_request_choice_record(*, actor, request: DocumentRequest, wanted: str) -> DocumentRequest:
    """The requester's answer to the question of 14(3) §: a written decision, or not (or no reply)."""
    current = _locked(request, actor)
    if wanted not in DocumentRequest.DecisionWanted.values:
        raise ValidationError({"wanted": ERROR_REASON})
    current.decision_wanted = wanted
    to = State.DECISION_PENDING if wanted == DocumentRequest.DecisionWanted.YES else State.CLOSED
    return _move(current, to=to, actor=actor, payload={"wanted": wanted})


@transaction.atomic
def document_request_decide(*, actor, request: DocumentRequest, outcome: str, text: str) -> DocumentRequest:
    """The competent office holder's written decision, which carries the instructions for appeal."""
    current = _locked(request, actor)
    if not selectors.user_may_decide(user=actor, request=current):
        raise PermissionDenied(ERROR_DECIDER)
    if outcome not in DECISION_OUTCOMES:
        raise ValidationError({"outcome": ERROR_OUTCOME})
    if not text.strip():
        raise ValidationError({"text": ERROR_REASON})
    current.outcome = outcome
    current.decision_text = text
    current.decided_at = timezone.now()
    current.decided_by = actor
    current = _move(current, to=State.ANSWERED, actor=actor, payload={"outcome": outcome, "decision": True})
    _tell_requester(current, "decision")
    return current


@transaction.atomic
def document_request_appeal_record(*, actor, request: DocumentRequest, note: str = "") -> DocumentRequest:
    current = _locked(request, actor)
    if current.decided_at is None or current.appealed:
        raise ValidationError(ERROR_NOT_DECIDED, code="not_decided")
    current.appealed = True
    with set_actor(actor):
        current.save()
    _event(current, actor=actor, action=DocumentRequestEvent.Action.APPEAL, source=current.state, reason=note)
    return current


@transaction.atomic
def document_request_transfer(*, actor, request: DocumentRequest, to_authority: str) -> DocumentRequest:
    current = _locked(request, actor)
    if not to_authority.strip():
        raise ValidationError({"to_authority": ERROR_REASON})
    current.transferred_to = to_authority
    current.outcome = Outcome.TRANSFERRED
    return _move(current, to=State.TRANSFERRED, actor=actor)


@transaction.atomic
def document_request_withdraw(*, actor, request: DocumentRequest, note: str = "") -> DocumentRequest:
    current = _locked(request, actor)
    current.outcome = Outcome.WITHDRAWN
    return _move(current, to=State.WITHDRAWN, actor=actor, reason=note)


@transaction.atomic
def document_request_close(*, actor, request: DocumentRequest) -> DocumentRequest:
    return _move(_locked(request, actor), to=State.CLOSED, actor=actor)
