"""Erasure (GDPR 17): a plan computed as a dry run, reviewed, then executed in one transaction.

The plan says, per object the person was confirmed in, delete / anonymise / keep, and for what it keeps the
ground: an open invoice or a debt in collection (seed 003), a legal hold for an open legal claim, another open
request about the same data, or a retention period the law or the records-management plan sets (the contact-centre
archive, seed 004). The holds are the retention purge's own (`privacy.holds.customer_holds`), so erasure on request
and erasure past retention never disagree. Nothing is written by the dry run but the plan: what would go with
each object is counted by Django's deletion collector without deleting.

A customer kept only for an open invoice or a debt in collection is minimised, not kept whole: the claim needs who
owes and where the claim is sent (name and address, `CLAIM_FIELDS`) and the unpaid invoice rows; the e-mail, phones,
other fields, interactions, contact persons and paid invoices go, and the record is restricted to that purpose.
A legal hold or another open request keeps the whole record: a claim in court or another answer may need it all.
Free text in records that stay (another customer's interactions or notes) that names an erased person, their e-mail
or phone is listed as a mention; the handler decides, per record, to redact the mention or keep the text.

Execution, by an approver who did not prepare the plan, locks the request and the plan, recomputes the plan and
refuses if the data changed since review, passes the erasure on to every recipient of disclosed data (GDPR 19),
deletes row by row with the audit trail redacted (`privacy.redaction`: who, when and what action stay; the values
go), and decides the request: answered, partly refused or refused, with the letter. Two approvers executing at
once: the second waits for the lock, then finds the plan executed and is told so.
"""

import dataclasses
import hashlib
import json
import re
import uuid

from auditlog.context import disable_auditlog
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import F, Q
from django.db.models.deletion import Collector
from django.dispatch import Signal
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, ContactPerson, Customer, CustomerTag, Interaction, Invoice
from followups.models import FollowUp
from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.requests.services import request_record_from_profile
from privacy.requests.workflow import request_event_add, request_instance_sync
from privacy.retention.models import HoldType, PurgeKind
from privacy.retention.policies import POLICIES, _open_request_matches, register_hold_active
from privacy.retention.redaction import (
    REDACTED_VALUE,
    access_log_redact,
    audit_trail_log_update,
    audit_trail_redact,
    delete_with_redacted_trail,
    person_patterns,
)
from registers.models import Register

from .disclosures import notification_tasks_create
from .erasure_ledger import ledger_record
from .models import ErasureAction, ErasurePlan
from .refusals import decide
from .services import require

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Action = ErasureAction.Action
Ground = ErasureAction.Ground
ObjectType = ErasureAction.ObjectType
Decision = ErasureAction.Decision

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
CLAIM_FIELDS = ErasureAction.CLAIM_FIELDS
# Grounds served by the claim's data alone; any other ground keeps the whole record.
CLAIM_GROUNDS = frozenset({Ground.OPEN_INVOICE, Ground.DEBT_IN_COLLECTION})
# Free text of records that may stay while naming someone erased.
MENTION_FIELDS = {
    Interaction: ("subject", "text"),
    Customer: ("extra_info",),
    ContactPerson: ("interests",),
}
MENTION_TYPES = {
    Interaction: ObjectType.INTERACTION,
    Customer: ObjectType.CUSTOMER,
    ContactPerson: ObjectType.CONTACT_PERSON,
}
ERASED = frozenset({Action.DELETE, Action.ANONYMISE, Action.MINIMISE})
KEPT = frozenset({Action.KEEP, Action.MINIMISE})

ERROR_PLAN_CHANGED = _(
    "The person's data or its holds have changed since the plan was reviewed. Nothing was erased: "
    "send the request back to processing and compute the plan again."
)
ERROR_NO_PLAN = _("Compute the erasure plan first.")
ERROR_ALREADY_EXECUTED = _("This erasure was already executed by %(name)s on %(time)s.")
ERROR_MENTIONS_UNDECIDED = _(
    "Decide for every record that names the person whether the mention is removed or kept, then execute."
)
ERROR_NOT_A_MENTION = _("Only a record that names the person can be decided on here.")
ERROR_KEEP_NOTE_REQUIRED = _("Say why the mention is kept.")
ERROR_PLAN_NOT_DRAFT = _("This plan can no longer be changed.")

# Sent when a customer's data is erased in place (minimised, the customer kept for a claim). Apps that keep
# copies of a customer's earlier values (a merge's before-images in duplicates) drop them; a deleted
# customer takes such copies with it through their foreign keys. A signal because privacy cannot import
# the apps built on it (registers <- crm <- privacy <- duplicates).
customer_data_erased = Signal()


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
    fields: tuple[str, ...] = ()


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
    if set(grounds) <= CLAIM_GROUNDS:
        return _minimised_customer_actions(customer, tuple(grounds))
    # A legal hold or another open request keeps the customer whole, as the purge keeps it.
    actions = [PlannedAction(customer.register_id, ObjectType.CUSTOMER, customer.code, Action.KEEP, tuple(grounds))]
    for invoice in blocking:
        ground = Ground.DEBT_IN_COLLECTION if invoice.status == Invoice.Status.IN_COLLECTION else Ground.OPEN_INVOICE
        actions.append(PlannedAction(customer.register_id, ObjectType.INVOICE, invoice.code, Action.KEEP, (ground,)))
    return actions


def _filled(value) -> bool:
    return value is not None and str(value) != ""


def _minimised_customer_actions(customer: Customer, grounds: tuple[str, ...]) -> list[PlannedAction]:
    register_id = customer.register_id
    erased = tuple(n for n in Customer.DATA_FIELDS if n not in CLAIM_FIELDS and _filled(getattr(customer, n)))
    actions = [PlannedAction(register_id, ObjectType.CUSTOMER, customer.code, Action.MINIMISE, grounds, (), erased)]
    for invoice in customer.invoices.all():
        if invoice.blocks_erasure:
            ground = (
                Ground.DEBT_IN_COLLECTION if invoice.status == Invoice.Status.IN_COLLECTION else Ground.OPEN_INVOICE
            )
            actions.append(PlannedAction(register_id, ObjectType.INVOICE, invoice.code, Action.KEEP, (ground,)))
        else:
            actions.append(PlannedAction(register_id, ObjectType.INVOICE, invoice.code, Action.DELETE))
    for code in customer.interactions.values_list("code", flat=True):
        actions.append(PlannedAction(register_id, ObjectType.INTERACTION, code, Action.DELETE))
    for code in customer.contact_persons.values_list("code", flat=True):
        actions.append(PlannedAction(register_id, ObjectType.CONTACT_PERSON, code, Action.DELETE))
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


def _mention_actions(request, actions: list[PlannedAction]) -> list[PlannedAction]:
    """List the records that stay and whose free text names someone the plan erases (for the handler to decide)."""
    registers = list(request.register_parts.values_list("register_id", flat=True))
    return _mentions(patterns=erased_patterns(request, actions), registers=registers, actions=actions)


def _mentions(*, patterns: list[str], registers: list[int], actions: list[PlannedAction]) -> list[PlannedAction]:
    """List the records of the registers that stay and whose free text matches what identifies the erased people."""
    if not patterns:
        return []
    going = {(a.object_type, a.object_code) for a in actions if a.action in {Action.DELETE, Action.MINIMISE}}
    deleted_customers = [a.object_code for a in actions if a.action == Action.DELETE and a.object_type == "customer"]
    scopes = {
        Interaction: Q(customer__register_id__in=registers) & ~Q(customer__code__in=deleted_customers),
        Customer: Q(register_id__in=registers) & ~Q(code__in=deleted_customers),
        ContactPerson: Q(customer__register_id__in=registers) & ~Q(customer__code__in=deleted_customers),
    }
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    found = []
    for model, names in MENTION_FIELDS.items():
        any_field = Q()
        for name in names:
            for pattern in patterns:
                any_field |= Q(**{f"{name}__iregex": pattern})
        rows = model.objects.filter(scopes[model]).filter(any_field).select_related(*_register_path(model))
        for row in rows:
            object_type = MENTION_TYPES[model]
            if (object_type, row.code) in going:
                continue
            hits = tuple(n for n in names if any(c.search(getattr(row, n) or "") for c in compiled))
            if hits:
                found.append(PlannedAction(_register_id(row), object_type, row.code, Action.MENTION, (), (), hits))
    return found


def erased_patterns(request: DataSubjectRequest, actions) -> list[str]:
    """Return patterns of what identifies the people the actions erase: names, e-mails and phone numbers.

    A minimised customer keeps its name, so only its erased e-mail and phones count; a kept record counts for none."""
    done = {(a.object_type, a.object_code): a.action for a in actions}
    patterns: list[str] = []
    for match in request.matches.select_related("customer", "contact_person"):
        if match.customer_id:
            patterns += customer_patterns(match.customer, done.get((ObjectType.CUSTOMER, match.customer.code)))
        elif match.contact_person_id:
            person = match.contact_person
            if done.get((ObjectType.CONTACT_PERSON, person.code)) != Action.DELETE:
                continue
            patterns += person_patterns(
                names=[(person.first_name, person.last_name)], emails=[person.email], phones=[person.phone]
            )
    return list(dict.fromkeys(patterns))


def customer_patterns(customer: Customer, action: str | None) -> list[str]:
    """Return the patterns of what identifies a customer the action erases (none for a kept record)."""
    if action not in {Action.DELETE, Action.MINIMISE}:
        return []
    names = [(customer.first_name, customer.last_name)] if action == Action.DELETE else []
    if customer.is_organisation:
        names = []
    phones = [customer.landline, customer.mobile, customer.fax]
    return person_patterns(names=names, emails=[customer.email], phones=phones)


def _register_path(model) -> tuple[str, ...]:
    return ("customer",) if model is not Customer else ()


def _register_id(row) -> int:
    return row.register_id if isinstance(row, Customer) else row.customer.register_id


# When two matches plan the same object, the stronger action wins: a deletion over a link removal.
_PRECEDENCE = {Action.DELETE: 3, Action.MINIMISE: 2, Action.KEEP: 2, Action.ANONYMISE: 1, Action.MENTION: 0}


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
    actions += _mention_actions(request, actions)
    unique: dict[tuple[str, uuid.UUID], PlannedAction] = {}
    for action in actions:
        key = (action.object_type, action.object_code)
        if key not in unique or _PRECEDENCE[action.action] > _PRECEDENCE[unique[key].action]:
            unique[key] = action
    return sorted(unique.values(), key=lambda a: (a.register_id, a.object_type, str(a.object_code)))


def _fingerprint(actions: list[PlannedAction]) -> str:
    # Field lists are added only where there are any, so that plans without them keep their fingerprints.
    rows = [
        [a.object_type, str(a.object_code), a.action, sorted(a.grounds), *([sorted(a.fields)] if a.fields else [])]
        for a in actions
    ]
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
            fields=list(planned.fields),
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


def _actor_id(actor) -> int | None:
    # No person acts when the Helsinki profile erases its user's data (customers_erase): the entries say so.
    return actor.pk if actor is not None else None


def _minimise(action: ErasureAction, *, actor, marker: dict, now) -> None:
    customer = Customer.objects.select_for_update().filter(code=action.object_code).first()
    if customer is None:
        return
    erased = [n for n in Customer.DATA_FIELDS if n not in CLAIM_FIELDS]
    for name in erased:
        setattr(customer, name, None if Customer._meta.get_field(name).null else "")
    # Art. 18(2) in effect: what stays is only stored and used for the claim, out of exports and mailings.
    if not customer.processing_restricted:
        customer.processing_restricted = True
        customer.processing_restricted_at = now
    customer.version = F("version") + 1
    with disable_auditlog():
        customer.save()
    customer.refresh_from_db()
    # The claim needs none of the daily work about the person: their follow-ups and tags go (issue 18).
    delete_with_redacted_trail(
        FollowUp.objects.filter(customer=customer),
        actor_id=_actor_id(actor),
        object_repr=ERASED_REPR,
        additional=marker,
    )
    CustomerTag.objects.filter(customer=customer).delete()
    audit_trail_redact(model=Customer, pks=[customer.pk], object_repr=str(customer), additional=marker)
    audit_trail_log_update(
        instance=customer,
        fields=[*erased, "processing_restricted", "processing_restricted_at"],
        actor_id=_actor_id(actor),
        additional=marker,
    )
    customer_data_erased.send(sender=Customer, customer_pks=[customer.pk])


def _ledger(action, row, *, marker: dict, fields=()) -> None:
    # Before the row changes: the ledger keeps what the erasure did, to do it again after a restore.
    ledger_record(
        row=row,
        object_type=action.object_type,
        action=action.action,
        erasure=marker.get("erasure_request") or "erasure",
        register_id=action.register_id,
        fields=fields,
    )


def _redact_mention(action: ErasureAction | PlannedAction, *, actor, marker: dict, patterns: list[str]) -> None:
    model = OBJECT_MODELS[action.object_type]
    row = model.objects.select_for_update().filter(code=action.object_code).first()
    if row is None or not patterns:
        return
    _ledger(action, row, marker=marker, fields=list(action.fields))
    compiled = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    for name in action.fields:
        setattr(row, name, compiled.sub(REDACTED_VALUE, getattr(row, name) or ""))
    with disable_auditlog():
        row.save()
    # The earlier entries of the record held the text with the mention in it.
    audit_trail_redact(model=model, pks=[row.pk], object_repr=str(row), additional=marker)
    audit_trail_log_update(instance=row, fields=list(action.fields), actor_id=_actor_id(actor), additional=marker)


def _execute_action(action: ErasureAction, *, actor, marker: dict, now, patterns: list[str]) -> None:
    if action.action in {Action.DELETE, Action.MINIMISE}:
        row = OBJECT_MODELS[action.object_type].objects.filter(code=action.object_code).first()
        if row is not None:
            _ledger(action, row, marker=marker)
    if action.action == Action.MINIMISE:
        _minimise(action, actor=actor, marker=marker, now=now)
    elif action.action == Action.MENTION and action.decision == Decision.REDACT:
        _redact_mention(action, actor=actor, marker=marker, patterns=patterns)
    elif action.action == Action.DELETE:
        model = OBJECT_MODELS[action.object_type]
        if model is ContactPerson:
            # A follow-up about the person would stay on the organisation (SET_NULL) with a note about them.
            delete_with_redacted_trail(
                FollowUp.objects.filter(contact_person__code=action.object_code),
                actor_id=_actor_id(actor),
                object_repr=ERASED_REPR,
                additional=marker,
            )
        delete_with_redacted_trail(
            model.objects.filter(code=action.object_code),
            actor_id=_actor_id(actor),
            object_repr=ERASED_REPR,
            additional=marker,
        )
    # Kept rows stay as they are; an anonymised interaction loses its link when its contact person goes.


def _touched_customers(actions) -> list[Customer]:
    """Return the customers whose data the executed plan removes, for the art. 19 notifications."""
    codes = {
        a.object_code
        for a in actions
        if a.action in {Action.DELETE, Action.MINIMISE} and a.object_type == ObjectType.CUSTOMER
    }
    people = {
        a.object_code for a in actions if a.action == Action.DELETE and a.object_type == ObjectType.CONTACT_PERSON
    }
    customers = list(Customer.objects.filter(code__in=codes))
    customers += list(Customer.objects.filter(contact_persons__code__in=people).distinct())
    return customers


def execution_summary(plan: ErasurePlan | None) -> dict[str, int]:
    """Count what an executed plan erased, minimised, kept whole and redacted, for the approver's message."""
    counts = {"erased": 0, "minimised": 0, "kept": 0, "mentions_redacted": 0, "mentions_kept": 0}
    for action in plan.actions.all() if plan else ():
        if action.action in {Action.DELETE, Action.ANONYMISE}:
            counts["erased"] += 1
        elif action.action == Action.MINIMISE:
            counts["minimised"] += 1
        elif action.action == Action.KEEP:
            counts["kept"] += 1
        elif action.decision == Decision.REDACT:
            counts["mentions_redacted"] += 1
        else:
            counts["mentions_kept"] += 1
    return counts


@transaction.atomic
def erasure_mention_decide(*, request: DataSubjectRequest, actor, code, decision: str, note: str = "") -> ErasureAction:
    """Record whether a mention of the person in a record that stays is removed or kept, and by whom."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    require(current, kinds=(Kind.ERASURE,), states=(State.IN_PROGRESS, State.REVIEW))
    plan = plan_current(current)
    action = plan.actions.select_for_update().filter(code_filter(code)).first() if plan else None
    if action is None or action.action != Action.MENTION:
        raise ValidationError(ERROR_NOT_A_MENTION, code="not_a_mention")
    if plan.status != ErasurePlan.Status.DRAFT:
        raise ValidationError(ERROR_PLAN_NOT_DRAFT, code="plan_not_draft")
    if decision not in Decision.values:
        raise ValidationError(ERROR_NOT_A_MENTION, code="not_a_mention")
    note = (note or "").strip()
    if decision == Decision.KEEP and not note:
        raise ValidationError({"decision_note": ERROR_KEEP_NOTE_REQUIRED}, code="note_required")
    action.decision = decision
    action.decision_note = note
    action.decided_by = actor
    action.decided_at = timezone.now()
    action.full_clean()
    action.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
    request_event_add(
        request=current,
        actor=actor,
        action=RequestEvent.Action.ERASURE_PLANNED,
        payload={"plan": str(plan.code), "mention": str(action.object_code), "decision": decision},
    )
    return action


def code_filter(code) -> Q:
    """Match a plan row by the public code of its object (a malformed code matches nothing)."""
    try:
        return Q(object_code=uuid.UUID(str(code)))
    except ValueError:
        return Q(pk__in=[])


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
    if any(a.action == Action.MENTION and not a.decision for a in actions):
        raise ValidationError(ERROR_MENTIONS_UNDECIDED, code="mentions_undecided")
    # Before anything is deleted: the ledger still links the disclosures to the person's records, and the
    # records still say what identifies the person.
    notification_tasks_create(request=current, actor=actor, customers=_touched_customers(actions))
    patterns = erased_patterns(current, actions)
    registers = sorted({a.register_id for a in actions if a.action in ERASED})
    marker = {"erasure_request": current.reference, "erasure_plan": str(plan.code)}
    now = timezone.now()
    # Deletions first: a redacted mention or a minimised record must not be saved after a row it points to went.
    for action in sorted(actions, key=lambda a: a.action != Action.DELETE):
        _execute_action(action, actor=actor, marker=marker, now=now, patterns=patterns)
        action.done_at = now
        action.save(update_fields=["done_at"])
    # Searches for the person in exports of these registers stay logged, without the words searched for.
    access_log_redact(patterns=patterns, register_ids=registers, marker=marker)
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
    kept = [a for a in actions if a.action in KEPT]
    erased = [a for a in actions if a.action in ERASED]
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


def customers_planned_actions(customers) -> list[PlannedAction]:
    """Return what erasing the given customers whole would do (no request: the Helsinki profile's deletion, api.gdpr).

    The same holds and actions as a request's plan (`planned_actions`): every open request about a customer holds it.
    """
    holds = customer_holds(customers=customers, today=timezone.localdate())
    actions: list[PlannedAction] = []
    for customer in customers.prefetch_related("invoices"):
        actions += _customer_actions(customer, holds.get(customer.pk, set()))
    return actions


class ErasureHeldError(ValidationError):
    """Raised when a customer to erase is kept, whole or minimised, on a legal ground; `grounds` lists them."""

    def __init__(self, grounds):
        self.grounds = sorted(set(grounds))
        super().__init__(ERROR_HELD, code="held")


ERROR_HELD = _("Some of the data must be kept on a legal ground, so nothing was erased.")


@transaction.atomic
def profile_erasure_execute(*, customers, marker: dict) -> list[DataSubjectRequest]:
    """Erase a person's customers for the city's customer profile (api.gdpr) and put the erasure on record.

    All or nothing over every register (ErasureHeldError with every ground that keeps data). For each controller a
    request is recorded (privacy.requests.services.request_record_from_profile): it names the erasure in every
    audit entry, as a request's reference does, holds the tasks of telling the recipients of disclosed data
    (GDPR 19, made before the records go, while the ledger still links them), and waits in the owner's queue.
    """
    locked = Customer.objects.select_for_update().filter(pk__in=list(customers.values_list("pk", flat=True)))
    # Locks the customers only: their registers and organisations are read, not changed.
    people = list(locked.select_for_update(of=("self",)).select_related("register__organisation").order_by("pk"))
    kept = [a for a in customers_planned_actions(locked) if a.action in KEPT]
    if kept:
        raise ErasureHeldError(g for a in kept for g in a.grounds)
    by_controller: dict[int, list[Customer]] = {}
    for customer in people:
        by_controller.setdefault(customer.register.organisation_id, []).append(customer)
    recorded = []
    for group in by_controller.values():
        request = request_record_from_profile(
            organisation=group[0].register.organisation,
            registers=sorted({c.register for c in group}, key=lambda register: register.pk),
            kind=Kind.ERASURE,
            requester_name=next((str(c) for c in group if str(c).strip()), str(marker.get("profile_id", "-"))),
            requester_email=next((c.email for c in group if c.email), ""),
        )
        notification_tasks_create(request=request, actor=None, customers=group)
        actions = customers_erase(
            customers=Customer.objects.filter(pk__in=[c.pk for c in group]),
            actor=None,
            marker={**marker, "erasure_request": request.reference},
        )
        request_event_add(
            request=request,
            actor=None,
            action=RequestEvent.Action.ERASURE_EXECUTED,
            payload={"actions": _counts(actions)},
        )
        recorded.append(request)
    return recorded


@transaction.atomic
def customers_erase(*, customers, actor=None, marker: dict) -> list[PlannedAction]:
    """Erase the given customers whole, with the audit trail redacted as on request; refuse if any is held.

    All or nothing: when a ground keeps any of the data (ErasureHeldError), nothing is erased. `marker` goes into
    every audit entry written, saying why the data went (as a request's reference does). A record that stays and
    names an erased person (another customer's interaction or notes) has the mention redacted: on request a handler
    may keep one with a written reason, and here no handler takes part, so the person's right decides.
    Returns the actions done, the redacted mentions among them.
    """
    locked = Customer.objects.select_for_update().filter(pk__in=list(customers.values_list("pk", flat=True)))
    people = list(locked)
    actions = customers_planned_actions(locked)
    kept = [a for a in actions if a.action in KEPT]
    if kept:
        raise ErasureHeldError(g for a in kept for g in a.grounds)
    done = {a.object_code: a.action for a in actions if a.object_type == ObjectType.CUSTOMER}
    patterns = list(dict.fromkeys(p for c in people for p in customer_patterns(c, done.get(c.code))))
    registers = sorted({c.register_id for c in people})
    mentions = _mentions(patterns=patterns, registers=registers, actions=actions)
    now = timezone.now()
    for action in actions:
        _execute_action(action, actor=actor, marker=marker, now=now, patterns=patterns)
    for mention in mentions:
        _redact_mention(mention, actor=actor, marker=marker, patterns=patterns)
    access_log_redact(patterns=patterns, register_ids=registers, marker=marker)
    return actions + mentions
