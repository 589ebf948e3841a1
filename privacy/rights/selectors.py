"""Permission-aware reads for the rights screens: the person's records in a request, plans, tasks, the ledger.

The request itself is fetched with `privacy.selectors.request_get_for_user[_rw]` (404 for another register's
staff). Within a request, a record, correction or task is reached only if it belongs to the request and, for
records, to a register where the user handles requests: anything else is 404, as if it did not exist.
"""

import re
import uuid

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from crm.models import ContactCentreMessage, ContactPerson, Customer, Interaction, Invoice
from privacy.requests import selectors
from privacy.requests.models import DataSubjectRequest, SubjectMatch
from registers import roles
from registers.models import Register
from registers.selectors import user_can

from .models import (
    ConsentNotice,
    ConsentRecord,
    Disclosure,
    ErasurePlan,
    NotificationTask,
    ObjectionRecord,
    RectificationItem,
)

RECORD_ITEM = re.compile(r"^(customer|contact_person|message):([0-9a-f-]{36})$")
MODELS = {
    "customer": Customer,
    "contact_person": ContactPerson,
    "message": ContactCentreMessage,
    "invoice": Invoice,
    "interaction": Interaction,
}


def match_list(*, request: DataSubjectRequest, user) -> list[SubjectMatch]:
    """Return the request's confirmed records in the registers where the user handles requests."""
    handled = selectors.request_register_ids(user=user, perms=(roles.HANDLE_REQUESTS,))
    return list(
        request.matches.filter(register_id__in=handled)
        .select_related("register", "customer__register", "contact_person__customer", "message")
        .order_by("register__name_fi", "id")
    )


def match_get_for_user(*, request: DataSubjectRequest, user, item: str) -> SubjectMatch:
    """Return the confirmed record named "customer:<code>" (or contact_person:, message:), or raise 404."""
    found = RECORD_ITEM.match(item or "")
    if found is None:
        raise Http404
    kind, code = found.groups()
    handled = selectors.request_register_ids(user=user, perms=(roles.HANDLE_REQUESTS,))
    match = (
        request.matches.filter(register_id__in=handled, **{f"{kind}__code": code})
        .select_related("register", "customer__register", "contact_person__customer", "message")
        .first()
    )
    if match is None:
        raise Http404
    return match


def rectification_item_get_for_user(*, request: DataSubjectRequest, user, code) -> RectificationItem:
    """Return a requested correction of the request in one of the user's registers, or raise 404."""
    handled = selectors.request_register_ids(user=user, perms=(roles.HANDLE_REQUESTS,))
    item = request.rectification_items.filter(code=code, match__register_id__in=handled).first()
    if item is None:
        raise Http404
    return item


def rectification_item_list(*, request: DataSubjectRequest) -> list[RectificationItem]:
    return list(
        request.rectification_items.select_related(
            "match__register", "match__customer__register", "match__contact_person__customer", "match__message"
        )
    )


def notification_task_get(*, request: DataSubjectRequest, code) -> NotificationTask:
    """Return an art. 19 task of the request, or raise 404."""
    task = request.notification_tasks.filter(code=code).first()
    if task is None:
        raise Http404
    return task


def plan_rows(*, plan: ErasurePlan | None) -> list[dict]:
    """Return the plan's actions with the live name of each object that still exists (for the reviewer)."""
    if plan is None:
        return []
    actions = list(plan.actions.select_related("register", "decided_by"))
    names: dict[tuple[str, str], str] = {}
    for object_type, model in MODELS.items():
        codes = [a.object_code for a in actions if a.object_type == object_type]
        if codes:
            for row in model.objects.filter(code__in=codes):
                names[(object_type, str(row.code))] = str(row)
    return [
        {
            "action": a,
            "name": names.get((a.object_type, str(a.object_code)), ""),
            "fields": _field_labels(MODELS[a.object_type], a.fields),
        }
        for a in actions
    ]


def _field_labels(model, names) -> list[str]:
    labels = []
    for name in names:
        try:
            labels.append(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            labels.append(name)
    return labels


def disclosure_list(*, register: Register):
    """Return the ledger of a register, newest first (the caller has checked the user may see the register)."""
    return Disclosure.objects.filter(register=register).select_related("customer", "actor").order_by("-disclosed_at")


CONSENT_EVIDENCE = ("register", "notice", "recorded_by", "withdrawn_by", "withdrawn_notice", "withdrawn_request")
OBJECTION_EVIDENCE = ("register", "notice", "recorded_by", "withdrawn_by", "request", "contact_person")


def consent_history(*, customer: Customer) -> list[ConsentRecord]:
    """Return every consent period of the customer with its evidence, newest first (one query)."""
    return list(ConsentRecord.objects.filter(customer=customer).select_related(*CONSENT_EVIDENCE))


def objection_history(*, customer: Customer) -> list[ObjectionRecord]:
    """Return the customer's objections and those of its contact persons, with their evidence, newest first."""
    return list(ObjectionRecord.objects.filter(customer=customer).select_related(*OBJECTION_EVIDENCE))


def consent_history_for_user(*, user, customer: Customer) -> dict:
    """Return the customer's consent and objection history, or raise 404 for a user who may not see the customer."""
    if not user_can(user=user, register=customer.register, perm=roles.VIEW_DATA):
        raise Http404
    return {"consents": consent_history(customer=customer), "objections": objection_history(customer=customer)}


def customer_rights_history(*, customer: Customer) -> dict:
    """Return the customer's consents, objections and disclosures, newest first."""
    return {
        "consents": consent_history(customer=customer),
        "objections": objection_history(customer=customer),
        "disclosures": list(Disclosure.objects.filter(customer=customer).select_related("actor")),
    }


# Notices ---------------------------------------------------------------------------------------------------------


def notice_in_force(*, register: Register, kind: str, purpose: str, at=None) -> ConsentNotice | None:
    """Return the version of the register's notice in force at `at` (now by default), or None."""
    return ConsentNotice.objects.filter(register=register, kind=kind, purpose=purpose).in_force(at=at).first()


def notices_in_force(*, register: Register, kind: str) -> list[ConsentNotice]:
    """Return the version in force of each purpose of the register's notices of one kind, in purpose order."""
    found: dict[str, ConsentNotice] = {}
    for notice in ConsentNotice.objects.filter(register=register, kind=kind).in_force():
        found.setdefault(notice.purpose, notice)
    return [found[purpose] for purpose in sorted(found)]


def register_uses_notices(*, register: Register, kind: str = ConsentNotice.Kind.CONSENT) -> bool:
    """Tell whether the register has any notice of the kind: then nothing of that kind is recorded without one."""
    return ConsentNotice.objects.filter(register=register, kind=kind).exists()


def notice_shown(*, register_id: int, kind: str, purpose: str, code) -> ConsentNotice | None:
    """Return the notice a page says it showed (a form's hidden code), if it is one of this register, kind and
    purpose; None for anything else, a malformed or foreign code included."""
    purposes = ConsentNotice.PURPOSES.get(kind)
    # A posted purpose reaches the query only if it is one (PostgreSQL refuses a NUL byte in a parameter).
    if purposes is None or purpose not in purposes.values:
        return None
    try:
        code = uuid.UUID(str(code))
    except ValueError:
        return None
    return ConsentNotice.objects.filter(register_id=register_id, kind=kind, purpose=purpose, code=code).first()


def notices_shown(*, codes, kind: str, purpose: str) -> dict[int, ConsentNotice]:
    """Return {register pk: notice} of the notices a page says it showed; malformed codes are left out."""
    valid = []
    for code in codes:
        try:
            valid.append(uuid.UUID(str(code)))
        except ValueError:
            continue
    notices = ConsentNotice.objects.filter(kind=kind, purpose=purpose, code__in=valid).order_by("valid_from", "id")
    return {notice.register_id: notice for notice in notices}


def notice_list(*, register: Register) -> QuerySet[ConsentNotice]:
    """Return every version of the register's notices, each marked with whether a record names it (`used`)."""
    used = Exists(ConsentRecord.objects.filter(Q(notice=OuterRef("pk")) | Q(withdrawn_notice=OuterRef("pk")))) | Exists(
        ObjectionRecord.objects.filter(notice=OuterRef("pk"))
    )
    return (
        ConsentNotice.objects.filter(register=register)
        .select_related("created_by")
        .annotate(used=used)
        .order_by("kind", "purpose", "-valid_from", "-id")
    )


def consent_get(*, customer: Customer, code) -> ConsentRecord:
    consent = ConsentRecord.objects.filter(customer=customer, code=code).first()
    if consent is None:
        raise Http404
    return consent
