"""Erasure (GDPR 17): a plan computed as a dry run, reviewed, then executed in one transaction.

The plan says, per object the person was confirmed in, delete / anonymise / keep, and for what it keeps the
ground: an open invoice or a debt in collection (seed 003), a legal hold for an open legal claim, another open
request about the same data, or a retention period the law or the records-management plan sets (the contact-centre
archive, seed 004). The holds are the retention purge's own (`privacy.holds.customer_holds`), so erasure on request
and erasure past retention never disagree. Nothing is written by the dry run but the plan: what would go with
each object is counted by Django's deletion collector without deleting.

Execution, by an approver who did not prepare the plan, locks the request and the plan, recomputes the plan and
refuses if the data changed since review, passes the erasure on to every recipient of disclosed data (GDPR 19),
deletes row by row with the audit trail redacted (`privacy.redaction`: who, when and what action stay; the values
go), and decides the request: answered, partly refused or refused, with the letter. Two approvers executing at
once: the second waits for the lock, then finds the plan executed and is told so.
"""

import dataclasses
import hashlib
import json
import uuid

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models.deletion import Collector
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, ContactPerson, Customer, Interaction, Invoice
from registers.models import Register

from .disclosures import notification_tasks_create
from .models import DataSubjectRequest, RequestEvent
from .models_retention import HoldType, PurgeKind
from .models_rights import ErasureAction, ErasurePlan
from .redaction import delete_with_redacted_trail
from .refusals import decide
from .retention import POLICIES, _open_request_matches, register_hold_active
from .rights_common import require
from .workflow import request_event_add, request_instance_sync

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Action = ErasureAction.Action
Ground = ErasureAction.Ground
ObjectType = ErasureAction.ObjectType

# What an erased row's audit entries say instead of its name.
ERASED_REPR = "[erased on request]"
OBJECT_MODELS = {
    ObjectType.CUSTOMER: Customer,
    ObjectType.CONTACT_PERSON: ContactPerson,
    ObjectType.INVOICE: Invoice,
    ObjectType.INTERACTION: Interaction,
    ObjectType.MESSAGE: ContactCentreMessage,
}
CASCADE_LABELS = {Interaction: "interaction", Invoice: "invoice", ContactPerson: "contact_person"}

ERROR_PLAN_CHANGED = _(
    "The person's data or its holds have changed since the plan was reviewed. Nothing was erased: "
    "send the request back to processing and compute the plan again."
)
ERROR_NO_PLAN = _("Compute the erasure plan first.")
ERROR_ALREADY_EXECUTED = _("This erasure was already executed by %(name)s on %(time)s.")


class ErasureAlreadyExecutedError(ValidationError):
    """Raised for the second of two approvers executing the same erasure: the first one did it."""


@dataclasses.dataclass(frozen=True)
class PlannedAction:
    register_id: int
    object_type: str
    object_code: uuid.UUID
    action: str
    grounds: tuple[str, ...] = ()
    cascade: tuple[tuple[str, int], ...] = ()


def customer_holds(*, customers, today, exclude_request=None) -> dict[int, set[str]]:
    """Return, per customer id, the hold types that keep the customer from being destroyed.

    The retention purge's own rules (`CustomerPolicy.hold_annotations`: open invoice or debt in collection, legal
    hold, another open request), so that erasure on request and erasure past retention never disagree.
    """
    policy = POLICIES[PurgeKind.CUSTOMER]
    holds: dict[int, set[str]] = {}
    for register in Register.objects.filter(pk__in=customers.values("register_id")):
        annotations = policy.hold_annotations(register, today, exclude_request=exclude_request)
        rows = customers.filter(register=register).annotate(**annotations).values("pk", *annotations)
        for row in rows:
            holds[row["pk"]] = {name.removeprefix("hold_") for name in annotations if row[name]}
    return holds


def _cascade_counts(queryset) -> tuple[tuple[str, int], ...]:
    """Count the crm rows that would be deleted with the queryset's rows (a dry run: nothing is deleted)."""
    collector = Collector(using=router.db_for_write(queryset.model), origin=queryset)
    collector.collect(queryset)
    counts: dict[str, int] = {}
    for model, instances in collector.data.items():
        label = CASCADE_LABELS.get(model)
        if label and model is not queryset.model:
            counts[label] = counts.get(label, 0) + len(instances)
    return tuple(sorted(counts.items()))


def _customer_actions(customer: Customer, holds: set[str]) -> list[PlannedAction]:
    grounds = []
    blocking = [invoice for invoice in customer.invoices.all() if invoice.blocks_erasure]
    if HoldType.OPEN_INVOICE in holds:
        statuses = {invoice.status for invoice in blocking}
        if Invoice.Status.OPEN in statuses:
            grounds.append(Ground.OPEN_INVOICE)
        if Invoice.Status.IN_COLLECTION in statuses:
            grounds.append(Ground.DEBT_IN_COLLECTION)
    if HoldType.LEGAL_HOLD in holds:
        grounds.append(Ground.LEGAL_HOLD)
    if HoldType.OPEN_REQUEST in holds:
        grounds.append(Ground.OPEN_REQUEST)
    if not grounds:
        cascade = _cascade_counts(Customer.objects.filter(pk=customer.pk))
        return [PlannedAction(customer.register_id, ObjectType.CUSTOMER, customer.code, Action.DELETE, (), cascade)]
    # A kept customer is kept whole, as the purge keeps it: the claim may need its history too.
    actions = [PlannedAction(customer.register_id, ObjectType.CUSTOMER, customer.code, Action.KEEP, tuple(grounds))]
    for invoice in blocking:
        ground = Ground.DEBT_IN_COLLECTION if invoice.status == Invoice.Status.IN_COLLECTION else Ground.OPEN_INVOICE
        actions.append(PlannedAction(customer.register_id, ObjectType.INVOICE, invoice.code, Action.KEEP, (ground,)))
    return actions


def _contact_person_actions(request, person: ContactPerson, today) -> list[PlannedAction]:
    organisation = person.customer
    holds = customer_holds(customers=Customer.objects.filter(pk=organisation.pk), today=today, exclude_request=request)
    grounds = []
    # The organisation's invoices are its own claim and do not hold its contact person's data.
    if HoldType.LEGAL_HOLD in holds.get(organisation.pk, set()):
        grounds.append(Ground.LEGAL_HOLD)
    if _open_request_matches(request).filter(contact_person=person).exists():
        grounds.append(Ground.OPEN_REQUEST)
    register_id = organisation.register_id
    if grounds:
        return [PlannedAction(register_id, ObjectType.CONTACT_PERSON, person.code, Action.KEEP, tuple(grounds))]
    actions = [PlannedAction(register_id, ObjectType.CONTACT_PERSON, person.code, Action.DELETE)]
    # The organisation's history stays; only its link to the person goes (on_delete=SET_NULL).
    for code in Interaction.objects.filter(contact_person=person).values_list("code", flat=True):
        actions.append(
            PlannedAction(register_id, ObjectType.INTERACTION, code, Action.ANONYMISE, (Ground.LINK_REMOVED,))
        )
    return actions


def _message_actions(request, message: ContactCentreMessage, now) -> list[PlannedAction]:
    register = message.register
    grounds = []
    if register_hold_active(register, timezone.localdate(now)):
        grounds.append(Ground.LEGAL_HOLD)
    if _open_request_matches(request).filter(message=message).exists():
        grounds.append(Ground.OPEN_REQUEST)
    if not grounds and not POLICIES[PurgeKind.CONTACT_CENTRE_MESSAGE].due(register, now).filter(pk=message.pk).exists():
        # Seed 004: messages are kept, exactly as sent, while the ordering department is a client.
        grounds.append(Ground.STATUTORY_RETENTION)
    action = Action.KEEP if grounds else Action.DELETE
    return [PlannedAction(register.pk, ObjectType.MESSAGE, message.code, action, tuple(grounds))]


def planned_actions(request: DataSubjectRequest) -> list[PlannedAction]:
    """Return what erasing the request's confirmed records would do, without changing anything."""
    now = timezone.now()
    today = timezone.localdate(now)
    matches = list(request.matches.select_related("customer", "contact_person__customer", "message__register"))
    customers = Customer.objects.filter(pk__in=[m.customer_id for m in matches if m.customer_id])
    holds = customer_holds(customers=customers, today=today, exclude_request=request)
    actions: list[PlannedAction] = []
    for match in matches:
        if match.customer_id:
            actions += _customer_actions(match.customer, holds.get(match.customer_id, set()))
        elif match.contact_person_id:
            actions += _contact_person_actions(request, match.contact_person, today)
        else:
            actions += _message_actions(request, match.message, now)
    unique = {(a.object_type, a.object_code): a for a in actions}
    return sorted(unique.values(), key=lambda a: (a.register_id, a.object_type, str(a.object_code)))


def _fingerprint(actions: list[PlannedAction]) -> str:
    rows = [[a.object_type, str(a.object_code), a.action, sorted(a.grounds)] for a in actions]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def _counts(actions) -> dict[str, int]:
    counts: dict[str, int] = {}
    for action in actions:
        counts[action.action] = counts.get(action.action, 0) + 1
    return counts


@transaction.atomic
def erasure_plan_compute(*, request: DataSubjectRequest, actor) -> ErasurePlan:
    """Compute the erasure plan of the request's confirmed records (a dry run), replacing any earlier draft."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    require(current, kinds=(Kind.ERASURE,), states=(State.IN_PROGRESS,))
    actions = planned_actions(current)
    for old in current.erasure_plans.filter(status=ErasurePlan.Status.DRAFT):
        old.status = ErasurePlan.Status.SUPERSEDED
        old.save(update_fields=["status", "updated_at"])
    plan = ErasurePlan.objects.create(
        request=current, computed_at=timezone.now(), computed_by=actor, fingerprint=_fingerprint(actions)
    )
    for planned in actions:
        row = ErasureAction(
            plan=plan,
            register_id=planned.register_id,
            object_type=planned.object_type,
            object_code=planned.object_code,
            action=planned.action,
            grounds=list(planned.grounds),
            cascade=dict(planned.cascade),
        )
        row.full_clean()
        row.save()
    request_event_add(
        request=current,
        actor=actor,
        action=RequestEvent.Action.ERASURE_PLANNED,
        payload={"plan": str(plan.code), "actions": _counts(actions)},
    )
    return plan


def plan_current(request: DataSubjectRequest) -> ErasurePlan | None:
    """Return the plan under review or executed, if any."""
    return request.erasure_plans.exclude(status=ErasurePlan.Status.SUPERSEDED).order_by("-computed_at", "-id").first()


def _already_executed(plan: ErasurePlan) -> ErasureAlreadyExecutedError:
    name = plan.executed_by.get_full_name() or plan.executed_by.get_username()
    when = formats.date_format(timezone.localtime(plan.executed_at), "SHORT_DATETIME_FORMAT")
    return ErasureAlreadyExecutedError(ERROR_ALREADY_EXECUTED % {"name": name, "time": when}, code="already_executed")


def _execute_action(action: ErasureAction, *, actor, marker: dict) -> None:
    if action.action != Action.DELETE:
        # Kept rows stay as they are; an anonymised interaction loses its link when its contact person goes.
        return
    model = OBJECT_MODELS[action.object_type]
    delete_with_redacted_trail(
        model.objects.filter(code=action.object_code), actor_id=actor.pk, object_repr=ERASED_REPR, additional=marker
    )


def _touched_customers(actions) -> list[Customer]:
    """Return the customers whose data the executed plan removes, for the art. 19 notifications."""
    codes = {a.object_code for a in actions if a.action == Action.DELETE and a.object_type == ObjectType.CUSTOMER}
    people = {
        a.object_code for a in actions if a.action == Action.DELETE and a.object_type == ObjectType.CONTACT_PERSON
    }
    customers = list(Customer.objects.filter(code__in=codes))
    customers += list(Customer.objects.filter(contact_persons__code__in=people).distinct())
    return customers


@transaction.atomic
def erasure_execute(*, request: DataSubjectRequest, actor, text: str = "", grounds=()) -> DataSubjectRequest:
    """Execute the reviewed plan in one transaction and decide the request (answered, partly refused, refused)."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    plan = (
        ErasurePlan.objects.select_for_update()
        .filter(request=current)
        .exclude(status=ErasurePlan.Status.SUPERSEDED)
        .order_by("-computed_at", "-id")
        .first()
    )
    if plan is not None and plan.status == ErasurePlan.Status.EXECUTED:
        raise _already_executed(plan)
    require(current, kinds=(Kind.ERASURE,), states=(State.REVIEW,))
    if plan is None:
        raise ValidationError(ERROR_NO_PLAN)
    if _fingerprint(planned_actions(current)) != plan.fingerprint:
        raise ValidationError(ERROR_PLAN_CHANGED, code="plan_changed")
    actions = list(plan.actions.all())
    # Before anything is deleted: the ledger still links the disclosures to the person's records.
    notification_tasks_create(request=current, actor=actor, customers=_touched_customers(actions))
    marker = {"erasure_request": current.reference, "erasure_plan": str(plan.code)}
    now = timezone.now()
    for action in actions:
        _execute_action(action, actor=actor, marker=marker)
        action.done_at = now
        action.save(update_fields=["done_at"])
    plan.status = ErasurePlan.Status.EXECUTED
    plan.executed_at = now
    plan.executed_by = actor
    plan.save(update_fields=["status", "executed_at", "executed_by", "updated_at"])
    request_event_add(
        request=current,
        actor=actor,
        action=RequestEvent.Action.ERASURE_EXECUTED,
        payload={"plan": str(plan.code), "actions": _counts(actions)},
    )
    kept = [a for a in actions if a.action == Action.KEEP]
    erased = [a for a in actions if a.action != Action.KEEP]
    if kept and not erased:
        outcome = State.REFUSED
    elif kept:
        outcome = State.PARTLY_REFUSED
    else:
        outcome = State.RESPONDED
    provisions = [code for action in kept for code in action.provisions]
    decided = decide(request=current, actor=actor, outcome=outcome, grounds=[*provisions, *grounds], text=text)
    request_instance_sync(request, decided)
    return decided
