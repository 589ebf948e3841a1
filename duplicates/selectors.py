"""Reads for the duplicate screens: every one scoped by the user's registers through crm.selectors."""

from __future__ import annotations

import datetime
import uuid

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm import selectors as crm_selectors
from crm.models import ContactPerson, Customer
from privacy.requests.models import DataSubjectRequest, SubjectMatch
from privacy.retention.models import LegalHold
from privacy.rights.models import ConsentRecord
from registers import roles
from registers.models import Register
from registers.selectors import user_can

from .merging import LOG_KEY, field_label
from .models import CustomerMerge, DuplicateCandidate, RecordKind

ERROR_NO_MERGE_RIGHT = _("Only the register's owner or handler may merge customers or undo a merge.")
ERROR_UNDO_STATE = _("This merge has already been undone.")
ERROR_UNDO_EXPIRED = _("A merge can be undone for %(days)s days; this one is older.")
ERROR_UNDO_ERASED = _("The kept record's data has been erased since: the merge can no longer be undone.")
ERROR_UNDO_MERGED_AGAIN = _(
    "The surviving record has been merged again since; undo the later merge first, if it can still be undone."
)


class Blocker:
    """Why merging a record needs the request handler's eyes: an open request, a legal hold, a restriction."""

    OPEN_REQUEST = "open_request"
    LEGAL_HOLD = "legal_hold"
    RESTRICTED = "restricted"

    LABELS = {
        OPEN_REQUEST: _("in the open data-subject request %(reference)s"),
        LEGAL_HOLD: _("under a legal hold until %(date)s"),
        RESTRICTED: _("processing restricted"),
    }

    def __init__(self, code: str, record, request: DataSubjectRequest | None = None, until=None):
        self.code, self.record, self.request, self.until = code, record, request, until

    def __str__(self) -> str:
        params = {"reference": self.request.reference if self.request else "", "date": self.until or ""}
        return f"{self.record.display_name}: {self.LABELS[self.code] % params}"


def user_may_merge(*, user, register: Register) -> bool:
    """Tell whether the user may merge records of the register and undo merges: CHANGE_DATA and the merge right."""
    return user_can(user=user, register=register, perm=roles.CHANGE_DATA) and crm_selectors.user_holds_right(
        user=user, register=register, right=roles.MERGE_CUSTOMERS
    )


def user_handles_requests(*, user, register: Register) -> bool:
    return user_can(user=user, register=register, perm=roles.HANDLE_REQUESTS)


def require_merge_right(*, user, register: Register) -> None:
    if not user_may_merge(user=user, register=register):
        raise PermissionDenied(ERROR_NO_MERGE_RIGHT)


def merge_blockers(*, records: list) -> list[Blocker]:
    """The open requests, legal holds and restrictions of the records (customers or contact persons)."""
    if not records:
        return []
    blockers: list[Blocker] = []
    if isinstance(records[0], Customer):
        by_pk = {record.pk: record for record in records}
        matches = SubjectMatch.objects.filter(customer_id__in=by_pk, request__state__in=DataSubjectRequest.OPEN_STATES)
        person_matches = SubjectMatch.objects.filter(
            contact_person__customer_id__in=by_pk, request__state__in=DataSubjectRequest.OPEN_STATES
        ).select_related("request", "contact_person")
        for match in matches.select_related("request"):
            blockers.append(Blocker(Blocker.OPEN_REQUEST, by_pk[match.customer_id], request=match.request))
        for match in person_matches:
            blockers.append(Blocker(Blocker.OPEN_REQUEST, by_pk[match.contact_person.customer_id], match.request))
        holds = LegalHold.objects.active().filter(scope=LegalHold.Scope.CUSTOMER, customer_id__in=by_pk)
        for hold in holds:
            blockers.append(Blocker(Blocker.LEGAL_HOLD, by_pk[hold.customer_id], until=hold.ends_on))
        for record in records:
            if record.processing_restricted:
                blockers.append(Blocker(Blocker.RESTRICTED, record))
    else:
        by_pk = {record.pk: record for record in records}
        matches = SubjectMatch.objects.filter(
            contact_person_id__in=by_pk, request__state__in=DataSubjectRequest.OPEN_STATES
        ).select_related("request")
        for match in matches:
            blockers.append(Blocker(Blocker.OPEN_REQUEST, by_pk[match.contact_person_id], request=match.request))
        organisation = records[0].customer
        if organisation.processing_restricted:
            blockers.append(Blocker(Blocker.RESTRICTED, organisation))
    return blockers


def merge_defaults(*, rules, survivor, records: list) -> dict[str, int]:
    """{field: pk of the record whose value is taken by default}: the newest non-empty value, else the survivor's."""
    newest_first = sorted(records, key=lambda record: (record.updated_at, record.pk), reverse=True)
    defaults = {}
    for name in rules.choosable(survivor):
        source = next((record for record in newest_first if getattr(record, name) not in (None, "")), survivor)
        defaults[name] = source.pk
    return defaults


def _redundant(rows, *, key, survivor_column: str, survivor_pk: int, order) -> list:
    """Rows whose `key` another row of the group already has: the survivor's first, then by `order`."""
    seen: set = set()
    redundant = []
    for row in sorted(rows, key=lambda row: (getattr(row, survivor_column) != survivor_pk, order(row))):
        if key(row) in seen:
            redundant.append(row)
        seen.add(key(row))
    return redundant


def rows_made_redundant(*, rules, survivor, merged_pks: list[int]) -> list:
    """Rows of merged records that would say twice what one row says after the merge.

    A request matches a record once: the remaining match covers the merged ones. A consent is in force once
    per purpose: the one in force since the earliest date stays (it is true for the whole time), the later
    one is kept in the merge's before-images and comes back with an undo.
    """
    group = [survivor.pk, *merged_pks]
    column = "customer_id" if rules.model is Customer else "contact_person_id"
    matches = SubjectMatch.objects.filter(**{f"{column}__in": group})
    redundant = _redundant(
        matches,
        key=lambda match: match.request_id,
        survivor_column=column,
        survivor_pk=survivor.pk,
        order=lambda m: m.pk,
    )
    if rules.model is Customer:
        consents = ConsentRecord.objects.filter(customer_id__in=group, withdrawn_at__isnull=True)
        redundant += _redundant(
            consents,
            key=lambda consent: consent.purpose,
            survivor_column="customer_id",
            survivor_pk=-1,  # the earliest consent wins, whoever's it is
            order=lambda consent: (consent.given_at, consent.pk),
        )
    return redundant


def merge_undo_refusal(*, merge: CustomerMerge, now: datetime.datetime):
    """The reason the merge cannot be undone now, or None."""
    if merge.state != CustomerMerge.State.DONE:
        return ERROR_UNDO_STATE
    if now > merge.undo_until:
        return ERROR_UNDO_EXPIRED % {"days": CustomerMerge.UNDO_DAYS}
    if not merge.images:
        return ERROR_UNDO_ERASED
    if merge.kind == RecordKind.CUSTOMER and merge.customer_id != merge.survivor_pk:
        return ERROR_UNDO_MERGED_AGAIN
    if merge.kind == RecordKind.CONTACT_PERSON and (
        merge.survivor_person_id != merge.survivor_pk or merge.customer_id != merge.images.get("parent")
    ):
        # The person was merged again, or their organisation was merged into another one.
        return ERROR_UNDO_MERGED_AGAIN
    later = CustomerMerge.objects.filter(
        customer_id=merge.customer_id, state=CustomerMerge.State.DONE, merged_at__gt=merge.merged_at
    )
    if merge.kind == RecordKind.CONTACT_PERSON:
        later = later.filter(survivor_person_id=merge.survivor_person_id)
    # Any later merge on the customer, of contact persons too: it may have merged a person the undo would
    # take back with its customer, leaving that customer's interactions naming the survivor's person.
    if later.exists():
        return ERROR_UNDO_MERGED_AGAIN
    return None


def candidate_list(*, user, register: Register, state: str | None = DuplicateCandidate.State.OPEN) -> QuerySet:
    """The register's candidate pairs (in `state`, or all), best first, for a user who may merge in it or read the
    keepers' records (an integration client that shows them elsewhere; merging stays refused to it)."""
    if not crm_selectors.user_may_read_keeper_records(user=user, register=register):
        require_merge_right(user=user, register=register)
    candidates = DuplicateCandidate.objects.filter(register=register)
    if state is not None:
        candidates = candidates.filter(state=state)
    return candidates.select_related("first", "second", "first_person__customer", "second_person__customer").order_by(
        "-score", "id"
    )


def candidate_get(*, user, register: Register, code) -> DuplicateCandidate:
    try:
        return candidate_list(user=user, register=register, state=None).get(code=code)
    except (DuplicateCandidate.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _named_in_order(queryset, codes: list) -> list:
    """The rows of `queryset` named by `codes`, in that order; 404 unless every code names one."""
    try:
        # Parsed, so that a code written in capitals or braces names the same row once.
        codes = list(dict.fromkeys(uuid.UUID(str(code)) for code in codes))
    except ValueError:
        raise Http404 from None
    by_code = {row.code: row for row in queryset.filter(code__in=codes)}
    if len(by_code) != len(codes):
        raise Http404
    return [by_code[code] for code in codes]


def customers_for_merge(*, user, register: Register, codes: list) -> list[Customer]:
    """The customers named by `codes`, 404 unless every one is a customer of the register the user may merge in."""
    require_merge_right(user=user, register=register)
    customers = crm_selectors.customer_list(user=user, register=register).annotate(
        interaction_count=Count("interactions", distinct=True),
        contact_person_count=Count("contact_persons", distinct=True),
    )
    return _named_in_order(customers, codes)


def contact_persons_for_merge(*, user, customer: Customer, codes: list) -> list[ContactPerson]:
    """The organisation's contact persons named by `codes`, 404 unless every one is among them."""
    require_merge_right(user=user, register=customer.register)
    return _named_in_order(customer.contact_persons.all(), codes)


def merge_list(*, user, register: Register) -> QuerySet:
    require_merge_right(user=user, register=register)
    return (
        CustomerMerge.objects.filter(register=register)
        .select_related("customer", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")
    )


def merge_get(*, user, register: Register, code) -> CustomerMerge:
    try:
        return merge_list(user=user, register=register).get(code=code)
    except (CustomerMerge.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def merge_field_changes(*, merge: CustomerMerge) -> list[tuple[str, str, str]]:
    """(field label, value before, value after) of the survivor's data fields the merge changed."""
    model = Customer if merge.kind == RecordKind.CUSTOMER else ContactPerson
    before, after = merge.images.get("before", {}), merge.images.get("after", {})
    rows = []
    for name in model.DATA_FIELDS:
        old, new = before.get(name), after.get(name)
        if old != new:
            rows.append((field_label(model, name), "" if old is None else str(old), "" if new is None else str(new)))
    return rows


def merge_counts(*, merge: CustomerMerge) -> list[tuple[str, int]]:
    """(kind of row, how many) the merge moved to the survivor: interactions, invoices, consents, ..."""
    rows = []
    for label, count in sorted(merge.images.get("counts", {}).items()):
        if label == LOG_KEY:
            rows.append((str(_("audit trail entries")), count))
            continue
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        rows.append((str(capfirst(model._meta.verbose_name_plural)), count))
    return rows
