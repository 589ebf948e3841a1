"""Follow-ups: add, change, mark done or undone, remove, and assign one to many customers at once.

Each function is one user-visible action: the actor must hold CHANGE_DATA in the customer's register, the
assignee an active role there, and a customer whose processing is restricted (GDPR 18) takes no new work.
"""

import datetime

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactPerson, Customer
from crm.selectors import ERROR_READ_ONLY
from crm.services import ERROR_RESTRICTED
from registers import roles
from registers.audit_chain import chained_bulk_create
from registers.audit_context import set_actor
from registers.audit_scope import REGISTER_KEY
from registers.models import Membership, Register, UserProfile
from registers.selectors import user_can

from .models import FollowUp

ERROR_ASSIGNEE = _("The assignee must hold a role in the customer's register.")


def _require_change(actor, register: Register) -> None:
    if not user_can(user=actor, register=register, perm=roles.CHANGE_DATA):
        raise PermissionDenied(ERROR_READ_ONLY)


def assignee_holds_role(*, user, register: Register) -> bool:
    """Tell whether the user holds an active role in the register today (who may be given a follow-up)."""
    return (
        user is not None
        and user.is_active
        and Membership.objects.active().filter(user=user, register=register).exists()
    )


def _require_assignee(assignee, register: Register) -> None:
    if not assignee_holds_role(user=assignee, register=register):
        raise ValidationError({"assignee": ERROR_ASSIGNEE}, code="assignee")


def _guard_restriction(customer_pk: int) -> None:
    # The stored flag, locked: a restriction applied while the form was open still stops the change.
    restricted = (
        Customer.objects.select_for_update()
        .filter(pk=customer_pk)
        .values_list("processing_restricted", flat=True)
        .first()
    )
    if restricted:
        raise ValidationError(ERROR_RESTRICTED, code="restricted")


def _locked(followup: FollowUp) -> FollowUp:
    # The stored row, not the caller's copy: its customer (and so its register) cannot be swapped by a form.
    current = FollowUp.objects.select_for_update().select_related("customer__register").get(pk=followup.pk)
    return current


@transaction.atomic
def followup_create(
    *,
    actor,
    customer: Customer,
    assignee,
    due_on: datetime.date,
    note: str = "",
    contact_person: ContactPerson | None = None,
) -> FollowUp:
    """Give a user a follow-up on a customer (or one of its contact persons), due on a date."""
    register = customer.register
    _require_change(actor, register)
    _guard_restriction(customer.pk)
    _require_assignee(assignee, register)
    followup = FollowUp(
        customer=customer,
        contact_person=contact_person,
        assignee=assignee,
        due_on=due_on,
        note=note,
        created_by=actor,
    )
    followup.full_clean()
    with set_actor(actor):
        followup.save()
    return followup


@transaction.atomic
def followup_update(
    *,
    actor,
    followup: FollowUp,
    assignee,
    due_on: datetime.date,
    note: str = "",
    contact_person: ContactPerson | None = None,
) -> FollowUp:
    """Change a follow-up's assignee, due date, note or contact person."""
    current = _locked(followup)
    register = current.customer.register
    _require_change(actor, register)
    _guard_restriction(current.customer_id)
    if assignee.pk != current.assignee_id:
        _require_assignee(assignee, register)
    current.assignee = assignee
    current.due_on = due_on
    current.note = note
    current.contact_person = contact_person
    current.full_clean()
    with set_actor(actor):
        current.save()
    return current


@transaction.atomic
def followup_done(*, actor, followup: FollowUp) -> FollowUp:
    """Mark a follow-up done: it leaves the lists of open work and shows on the customer's timeline."""
    current = _locked(followup)
    _require_change(actor, current.customer.register)
    _guard_restriction(current.customer_id)
    if current.done_at is not None:
        return current
    current.done_at = timezone.now()
    current.done_by = actor
    with set_actor(actor):
        current.save(update_fields=["done_at", "done_by", "updated_at"])
    return current


@transaction.atomic
def followup_reopen(*, actor, followup: FollowUp) -> FollowUp:
    """Mark a done follow-up open again (a mistaken click, or the matter came back)."""
    current = _locked(followup)
    _require_change(actor, current.customer.register)
    _guard_restriction(current.customer_id)
    if current.done_at is None:
        return current
    current.done_at = None
    current.done_by = None
    with set_actor(actor):
        current.save(update_fields=["done_at", "done_by", "updated_at"])
    return current


@transaction.atomic
def followup_delete(*, actor, followup: FollowUp) -> None:
    """Remove a follow-up for good."""
    current = _locked(followup)
    _require_change(actor, current.customer.register)
    _guard_restriction(current.customer_id)
    with set_actor(actor):
        current.delete()


def _audit_entries(followups: list[FollowUp], actor, register: Register) -> list[LogEntry]:
    # bulk_create sends no signals, so the trail gets the entries django-auditlog would have written.
    content_type = ContentType.objects.get_for_model(FollowUp)
    use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    now, cid = timezone.now(), get_cid()
    return [
        LogEntry(
            content_type=content_type,
            object_pk=str(followup.pk),
            object_id=followup.pk,
            object_repr=str(followup),
            action=LogEntry.Action.CREATE,
            changes=model_instance_diff(None, followup, use_json_for_changes=use_json),
            changes_text="",
            actor=actor,
            actor_email=getattr(actor, "email", None),
            timestamp=now,
            cid=cid,
            additional_data={REGISTER_KEY: register.pk},
        )
        for followup in followups
    ]


@transaction.atomic
def followups_assign_bulk(
    *, actor, register: Register, customer_ids, assignee, due_on: datetime.date, note: str = ""
) -> int:
    """Give the assignee one follow-up on each of the register's customers; return how many were created.

    Customers of other registers are ignored and those whose processing is restricted skipped. A constant
    number of queries whatever the count: the customers in one read, the rows and their audit entries in one
    insert each.
    """
    _require_change(actor, register)
    _require_assignee(assignee, register)
    customers = list(
        Customer.objects.select_for_update()
        .filter(register=register, pk__in=list(customer_ids), processing_restricted=False)
        .order_by("pk")
    )
    if not customers:
        return 0
    followups = [
        FollowUp(customer=customer, assignee=assignee, due_on=due_on, note=note, created_by=actor)
        for customer in customers
    ]
    for followup in followups:
        # The keys are known good (read above); checking them and the random code's uniqueness would cost a
        # query per row.
        followup.full_clean(
            exclude=["customer", "assignee", "contact_person", "created_by", "done_by"], validate_unique=False
        )
    created = FollowUp.objects.bulk_create(followups)
    chained_bulk_create(LogEntry, _audit_entries(created, actor, register))
    return len(created)


@transaction.atomic
def followup_digest_set(*, actor, enabled: bool) -> UserProfile:
    """Turn the user's daily e-mail of due and overdue follow-ups on or off."""
    profile, _created = UserProfile.objects.select_for_update().get_or_create(user=actor)
    if profile.followup_digest != enabled:
        profile.followup_digest = enabled
        profile.save(update_fields=["followup_digest"])
    return profile
