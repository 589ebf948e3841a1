"""Merging duplicate customers or contact persons with their whole history, dismissing a candidate, undoing.

A merge keeps one record (the survivor) and moves everything that referenced the others to it
(duplicates.merging); the fields the user chose are written on the survivor; the strictest privacy state
of the group holds for the result. A `CustomerMerge` keeps the before-images, and the undo within
`CustomerMerge.UNDO_DAYS` puts the records, their rows and the survivor's fields back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer, CustomerAlias
from privacy.requests.models import RequestEvent
from privacy.requests.workflow import request_event_add
from registers.audit_context import set_actor

from . import merging, selectors
from .models import CustomerMerge, DuplicateCandidate, RecordKind

ERROR_TOO_FEW = _("Choose at least two records to merge.")
ERROR_OTHER_REGISTER = _("Only customers of the same register can be merged.")
ERROR_OTHER_ORGANISATION = _("Only contact persons of the same organisation can be merged.")
ERROR_KINDS_DIFFER = _("A person and an organisation cannot be merged.")
ERROR_CHANGED = _("One of the records was changed while you were choosing the values. Check them and merge again.")
ERROR_UNKNOWN_CHOICE = _("Choose each value from one of the records being merged.")
ERROR_BLOCKED = _(
    "One of the records is in an open data-subject request, under a legal hold or restricted: confirm that you "
    "have seen this, as the request's handler, before merging."
)
ERROR_BLOCKED_RIGHT = _(
    "One of the records is in an open data-subject request, under a legal hold or restricted: only a handler of "
    "the register's data-subject requests may merge it."
)
ERROR_REASON = _("Give a reason.")

# Rows that are not moved to the survivor: the candidate pairs of the merged records disappear with them
# (the next scan finds the survivor's own pairs) and come back with them on undo.
KEPT_IN_PLACE = frozenset(
    {
        ("duplicates.DuplicateCandidate", "first"),
        ("duplicates.DuplicateCandidate", "second"),
        ("duplicates.DuplicateCandidate", "first_person"),
        ("duplicates.DuplicateCandidate", "second_person"),
    }
)
# Privacy state that holds for the result if it held for any merged record: (flag, its timestamp).
STRICTEST_FLAGS = (
    ("marketing_objection", "marketing_objection_at"),
    ("processing_restricted", "processing_restricted_at"),
)


@dataclass(frozen=True)
class MergeRules:
    """What differs between merging customers and merging contact persons."""

    model: type
    kind: str
    data_fields: tuple[str, ...]

    def choosable(self, record) -> tuple[str, ...]:
        if self.model is Customer:
            collected = set(Customer.fields_collected_by(record.register))
            names = {"first_name", "last_name"} if not record.is_organisation else {"organisation_name"}
            return tuple(name for name in self.data_fields if name in collected or name in names)
        return self.data_fields


CUSTOMER_RULES = MergeRules(model=Customer, kind=RecordKind.CUSTOMER, data_fields=Customer.DATA_FIELDS)
CONTACT_PERSON_RULES = MergeRules(
    model=ContactPerson, kind=RecordKind.CONTACT_PERSON, data_fields=ContactPerson.DATA_FIELDS
)


def _require_merge_right(actor, register) -> None:
    selectors.require_merge_right(user=actor, register=register)


def _locked(model, pks: list[int]) -> dict[int, Any]:
    rows = model.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    if model is Customer:
        rows = rows.select_related("register")
    return {row.pk: row for row in rows}


def _check_versions(records: list, versions: dict[int, int] | None) -> None:
    if versions is None:
        return
    for record in records:
        if record.pk not in versions or versions[record.pk] != record.version:
            raise ValidationError(ERROR_CHANGED, code="changed")


def _chosen_values(rules: MergeRules, survivor, records: list, choices: dict[str, int] | None) -> dict[str, Any]:
    defaults = selectors.merge_defaults(rules=rules, survivor=survivor, records=records)
    by_pk = {record.pk: record for record in records}
    values = {}
    for name in rules.choosable(survivor):
        source = (choices or {}).get(name, defaults[name])
        if source not in by_pk:
            raise ValidationError(ERROR_UNKNOWN_CHOICE, code="unknown_choice")
        values[name] = getattr(by_pk[source], name)
    return values


def _apply_strictest(survivor, records: list) -> None:
    # A contact person carries only the marketing objection of its own (issue 18); a customer carries both.
    for flag, at in STRICTEST_FLAGS:
        if not hasattr(survivor, flag):
            continue
        holding = [record for record in records if getattr(record, flag)]
        setattr(survivor, flag, bool(holding))
        times = [getattr(record, at) for record in holding if getattr(record, at) is not None]
        setattr(survivor, at, min(times) if times else None)


def _apply_company_facts(survivor: Customer, records: list[Customer]) -> None:
    # The company register's facts belong to the business ID they were fetched for.
    owner = next((record for record in records if record.business_id == survivor.business_id), None)
    if owner is not None and owner.pk != survivor.pk:
        survivor.company_status = owner.company_status
        survivor.company_facts = owner.company_facts
        survivor.company_data_fetched_at = owner.company_data_fetched_at


def _guard_blockers(*, actor, register, records: list, acknowledged: bool) -> list[selectors.Blocker]:
    blockers = selectors.merge_blockers(records=records)
    if not blockers:
        return blockers
    if not selectors.user_handles_requests(user=actor, register=register):
        raise PermissionDenied(ERROR_BLOCKED_RIGHT)
    if not acknowledged:
        raise ValidationError(ERROR_BLOCKED, code="blocked")
    return blockers


def _tell_requests(*, blockers, merge: CustomerMerge, actor, action: str) -> None:
    """Write the merge or its undo on the trail of every open request that matched one of the records."""
    for request in {blocker.request for blocker in blockers if blocker.request is not None}:
        request_event_add(
            request=request,
            actor=actor,
            action=action,
            payload={"register": merge.register_id, "records": len(merge.merged) + 1},
        )


def _merge(
    *,
    rules: MergeRules,
    actor,
    register,
    survivor_pk: int,
    merged_pks: list[int],
    choices: dict[str, int] | None,
    versions: dict[int, int] | None,
    reason: str,
    acknowledged: bool,
    parent: Customer,
) -> CustomerMerge:
    merged_pks = [pk for pk in dict.fromkeys(merged_pks) if pk != survivor_pk]
    if not merged_pks:
        raise ValidationError(ERROR_TOO_FEW, code="too_few")
    rows = _locked(rules.model, [survivor_pk, *merged_pks])
    if len(rows) != len(merged_pks) + 1:
        raise ValidationError(ERROR_CHANGED, code="changed")
    survivor, merged = rows[survivor_pk], [rows[pk] for pk in merged_pks]
    records = [survivor, *merged]
    _check_versions(records, versions)
    blockers = _guard_blockers(actor=actor, register=register, records=records, acknowledged=acknowledged)
    values = _chosen_values(rules, survivor, records, choices)
    before = merging.image_of(survivor)
    moves = merging.Moves()
    with set_actor(actor):
        # Redundant rows go first: moved as they are, they would clash with the survivor's own.
        dropped = merging.delete_keeping_images(
            selectors.rows_made_redundant(rules=rules, survivor=survivor, merged_pks=merged_pks)
        )
        counts = merging.move_references(
            model=rules.model,
            survivor_pk=survivor.pk,
            merged_pks=merged_pks,
            kept_in_place=KEPT_IN_PLACE,
            moves=moves,
        )
        deleted = merging.delete_keeping_images(merged)
        for name, value in values.items():
            setattr(survivor, name, value)
        _apply_strictest(survivor, records)
        if rules.model is Customer:
            survivor.last_activity_at = max(record.last_activity_at for record in records)
            _apply_company_facts(survivor, records)
        survivor.version = max(record.version for record in records) + 1
        survivor.full_clean()
        survivor.save()
        merge = CustomerMerge.objects.create(
            register=register,
            kind=rules.kind,
            customer=parent,
            survivor_pk=survivor.pk,
            survivor_person=survivor if rules.model is ContactPerson else None,
            merged=[{"pk": record.pk, "code": str(record.code), "name": record.display_name} for record in merged],
            images={
                "parent": parent.pk,
                "deleted": deleted,
                "dropped": dropped,
                "before": before,
                "after": merging.image_of(survivor),
                "counts": counts,
            },
            moved=moves.rows,
            reason=reason.strip(),
            merged_by=actor,
        )
    if rules.model is Customer:
        CustomerAlias.objects.bulk_create([CustomerAlias(code=record.code, customer=survivor) for record in merged])
    _tell_requests(blockers=blockers, merge=merge, actor=actor, action=RequestEvent.Action.RECORDS_MERGED)
    return merge


@transaction.atomic
def customer_merge(
    *,
    actor,
    survivor: Customer,
    merged: list[Customer],
    choices: dict[str, int] | None = None,
    versions: dict[int, int] | None = None,
    reason: str = "",
    acknowledged: bool = False,
) -> CustomerMerge:
    """Merge `merged` into `survivor`, taking each field from the record `choices[field]` names (pk).

    A field not in `choices` takes the newest non-empty value (selectors.merge_defaults). `versions`
    ({pk: version} as the user saw them) refuses a merge of records changed meanwhile.
    """
    register = survivor.register
    _require_merge_right(actor, register)
    for record in merged:
        if record.register_id != survivor.register_id:
            raise ValidationError(ERROR_OTHER_REGISTER, code="other_register")
        if record.kind != survivor.kind:
            raise ValidationError(ERROR_KINDS_DIFFER, code="kinds_differ")
    return _merge(
        rules=CUSTOMER_RULES,
        actor=actor,
        register=register,
        survivor_pk=survivor.pk,
        merged_pks=[record.pk for record in merged],
        choices=choices,
        versions=versions,
        reason=reason,
        acknowledged=acknowledged,
        parent=survivor,
    )


@transaction.atomic
def contact_person_merge(
    *,
    actor,
    survivor: ContactPerson,
    merged: list[ContactPerson],
    choices: dict[str, int] | None = None,
    versions: dict[int, int] | None = None,
    reason: str = "",
    acknowledged: bool = False,
) -> CustomerMerge:
    """Merge contact persons of one organisation, as `customer_merge` merges customers."""
    organisation = survivor.customer
    register = organisation.register
    _require_merge_right(actor, register)
    for record in merged:
        if record.customer_id != survivor.customer_id:
            raise ValidationError(ERROR_OTHER_ORGANISATION, code="other_organisation")
    return _merge(
        rules=CONTACT_PERSON_RULES,
        actor=actor,
        register=register,
        survivor_pk=survivor.pk,
        merged_pks=[record.pk for record in merged],
        choices=choices,
        versions=versions,
        reason=reason,
        acknowledged=acknowledged,
        parent=organisation,
    )


def _restore_survivor_fields(survivor, merge: CustomerMerge) -> list[str]:
    """Put back the survivor's fields the merge changed, unless someone has changed them since.

    Returns the names of the fields kept because they were changed after the merge.
    """
    before, after, now = merge.images["before"], merge.images["after"], merging.image_of(survivor)
    kept = []
    for name, old in before.items():
        if name in {"version", "updated_at", "created_at", "code", "match_name", "sort_name"}:
            continue
        if now.get(name) != after.get(name):
            kept.append(name)
            continue
        if old != now.get(name):
            field = survivor._meta.get_field(name)
            setattr(survivor, field.attname, old if field.is_relation else field.to_python(old))
    return kept


@transaction.atomic
def merge_undo(*, actor, merge: CustomerMerge, reason: str) -> CustomerMerge:
    """Put the merged records back as they were, with the rows that were theirs and the survivor's old fields."""
    merge = CustomerMerge.objects.select_for_update().select_related("register").get(pk=merge.pk)
    _require_merge_right(actor, merge.register)
    if not reason.strip():
        raise ValidationError({"reason": ERROR_REASON}, code="reason")
    refusal = selectors.merge_undo_refusal(merge=merge, now=timezone.now())
    if refusal is not None:
        raise ValidationError(refusal, code="undo_refused")
    rules = CUSTOMER_RULES if merge.kind == RecordKind.CUSTOMER else CONTACT_PERSON_RULES
    survivor = rules.model.objects.select_for_update().get(pk=merge.survivor_pk)
    with set_actor(actor):
        if rules.model is Customer:
            CustomerAlias.objects.filter(code__in=[record["code"] for record in merge.merged]).delete()
        # The survivor first gives back what it took (a business ID, say), then the records return.
        kept = _restore_survivor_fields(survivor, merge)
        survivor.version += 1
        survivor.save()
        merging.restore_images(merge.images["deleted"])
        merging.move_back(model=rules.model, survivor_pk=survivor.pk, moves=merge.moved)
        # Redundant rows last: they may belong to the records just restored, and clash until the move back.
        merging.restore_images(merge.images["dropped"])
        merging.check_constraints_now()
        restored = list(rules.model.objects.filter(pk__in=[record["pk"] for record in merge.merged]))
        blockers = selectors.merge_blockers(records=[survivor, *restored])
        merge.state = CustomerMerge.State.UNDONE
        merge.undone_by, merge.undone_at, merge.undo_reason = actor, timezone.now(), reason.strip()
        merge.images = {**merge.images, "kept_after_undo": kept}
        merge.save()
    _tell_requests(blockers=blockers, merge=merge, actor=actor, action=RequestEvent.Action.RECORDS_UNMERGED)
    return merge


@transaction.atomic
def candidate_dismiss(*, actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Mark a pair "not a duplicate": the scan never proposes it again."""
    candidate = DuplicateCandidate.objects.select_for_update().select_related("register").get(pk=candidate.pk)
    _require_merge_right(actor, candidate.register)
    if candidate.state != DuplicateCandidate.State.DISMISSED:
        with set_actor(actor):
            candidate.state = DuplicateCandidate.State.DISMISSED
            candidate.dismissed_by, candidate.dismissed_at = actor, timezone.now()
            candidate.save()
    return candidate


def merge_images_erase(*, customer_pks: list[int]) -> int:
    """Drop the before-images of merges into customers whose data was erased: they hold the erased values.

    Connected to `privacy.rights.erasure.customer_data_erased`; such a merge can no longer be undone.
    """
    return CustomerMerge.objects.filter(customer_id__in=customer_pks).exclude(images={}).update(images={}, moved={})


def merge_images_expire(*, now=None) -> int:
    """Drop the before-images of merges that can no longer be undone: they served only the undo."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=CustomerMerge.UNDO_DAYS)
    return CustomerMerge.objects.filter(merged_at__lt=cutoff).exclude(images={}).update(images={}, moved={})
