"""State changes of customers, contact persons and interactions.

Each function is one user-visible action: validated with `full_clean()`,
atomic, and attributed to its actor in the audit trail.
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.audit_context import set_actor
from registers.models import Register
from registers.selectors import user_can

from .models import ContactPerson, Customer, Interaction, Invoice
from .selectors import ERROR_NO_DELETE_RIGHT, ERROR_OTHERS_ENTRY, user_holds_right, user_may_change_interaction

ERROR_EDIT_CONFLICT = _(
    "Someone else saved this record while you were editing it. Your changes have not been saved: "
    "review the current values below and save again."
)
ERROR_RESTRICTED = _("Processing of this customer's data is restricted; it cannot be changed.")
ERROR_RIGHTS_FIELD = _(
    "An objection or a restriction of processing is recorded only through the person's request or consent, "
    "not by editing the customer."
)
# Changed only by the audited rights steps (privacy.rights: services, consent), each with its reason and record.
RIGHTS_FIELDS = frozenset(
    {"marketing_objection", "marketing_objection_at", "processing_restricted", "processing_restricted_at"}
)


class EditConflictError(ValidationError):
    """Raised when a save is based on an older version than the one stored."""


def _apply(instance, data: dict[str, Any]) -> None:
    for name, value in data.items():
        setattr(instance, name, value)


def _touch(customer: Customer, moment: datetime.datetime | None = None) -> None:
    # A plain UPDATE: moving the activity time is not a change of personal data.
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=moment or timezone.now())


def _stamp_marketing_objection(customer: Customer, was_objecting: bool) -> None:
    # The time an objection was given is evidence that it was honoured from then on.
    if customer.marketing_objection and not was_objecting:
        customer.marketing_objection_at = timezone.now()
    elif not customer.marketing_objection:
        customer.marketing_objection_at = None


def _apply_company_record(customer: Customer, record: dict) -> None:
    # A record of crm.company_register, signed when PRH answered: the customer names PRH as its source.
    customer.company_status = record["status"]
    customer.company_facts = record["facts"]
    customer.company_data_fetched_at = datetime.datetime.fromisoformat(record["fetched_at"])
    customer.source = Customer.Source.TRADE_REGISTER


def _refuse_rights_fields(data: dict[str, Any]) -> None:
    named = sorted(RIGHTS_FIELDS & set(data))
    if named:
        raise ValidationError(dict.fromkeys(named, ERROR_RIGHTS_FIELD))


def _guard_restriction(customer: Customer) -> None:
    # The stored flag, locked, not the caller's copy: a restriction applied after the caller loaded the customer
    # (an edit form left open) still stops the change, and none can be applied halfway through it.
    restricted = (
        Customer.objects.select_for_update()
        .filter(pk=customer.pk)
        .values_list("processing_restricted", flat=True)
        .first()
    )
    if restricted:
        raise ValidationError(ERROR_RESTRICTED, code="restricted")


def _require_entry_right(actor, interaction: Interaction) -> None:
    # The stored author, not the caller's copy: a form cannot reassign whose entry it is.
    stored = Interaction.objects.select_related("customer__register").get(pk=interaction.pk)
    if not user_may_change_interaction(user=actor, interaction=stored, register=stored.customer.register):
        raise PermissionDenied(ERROR_OTHERS_ENTRY)


def _clear_bounce(record, old_email: str) -> None:
    # A bounce was about the old address: a corrected one may be written to again (issue 18, campaigns.bounces).
    if record.email.casefold() != old_email.casefold():
        record.email_bounced_at = None


@transaction.atomic
def customer_create(*, actor, register: Register, data: dict[str, Any], company_record: dict | None = None) -> Customer:
    """Add a customer to a register, with the company register's facts when the user confirmed them."""
    _refuse_rights_fields(data)
    customer = Customer(register=register, last_activity_at=timezone.now())
    _apply(customer, data)
    if company_record is not None and customer.kind == Customer.Kind.ORGANISATION:
        _apply_company_record(customer, company_record)
    _stamp_marketing_objection(customer, was_objecting=False)
    customer.full_clean()
    with set_actor(actor):
        customer.save()
    return customer


@transaction.atomic
def customer_update(*, actor, customer: Customer, data: dict[str, Any], version: int) -> Customer:
    """Change a customer unless someone else saved a newer version first (optimistic locking)."""
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    # Before the version check: applying a restriction bumps the version, and the restriction is the real reason.
    _guard_restriction(current)
    if current.version != version:
        raise EditConflictError(ERROR_EDIT_CONFLICT, code="conflict")
    _refuse_rights_fields(data)
    was_objecting, old_email = current.marketing_objection, current.email
    _apply(current, data)
    _stamp_marketing_objection(current, was_objecting=was_objecting)
    _clear_bounce(current, old_email)
    current.last_activity_at = timezone.now()
    current.full_clean()
    current.version = F("version") + 1
    with set_actor(actor):
        current.save()
    current.refresh_from_db()
    return current


@transaction.atomic
def customer_delete(*, actor, customer: Customer) -> None:
    """Delete a customer and everything under it, for good: only a role with DELETE_CUSTOMERS (the owner)."""
    if not user_holds_right(user=actor, register=customer.register, right=roles.DELETE_CUSTOMERS):
        raise PermissionDenied(ERROR_NO_DELETE_RIGHT)
    _guard_restriction(customer)
    with set_actor(actor):
        for interaction in customer.interactions.all():
            interaction.delete()
        for person in customer.contact_persons.all():
            person.delete()
        for invoice in customer.invoices.all():
            invoice.delete()
        customer.delete()


@transaction.atomic
def contact_person_create(*, actor, customer: Customer, data: dict[str, Any]) -> ContactPerson:
    """Add a contact person to an organisation customer."""
    _guard_restriction(customer)
    person = ContactPerson(customer=customer)
    _apply(person, data)
    person.full_clean()
    with set_actor(actor):
        person.save()
    _touch(customer)
    return person


@transaction.atomic
def contact_person_update(*, actor, person: ContactPerson, data: dict[str, Any], version: int) -> ContactPerson:
    """Change a contact person unless a newer version was saved meanwhile."""
    current = ContactPerson.objects.select_for_update().select_related("customer").get(pk=person.pk)
    _guard_restriction(current.customer)
    if current.version != version:
        raise EditConflictError(ERROR_EDIT_CONFLICT, code="conflict")
    old_email = current.email
    _apply(current, data)
    _clear_bounce(current, old_email)
    current.full_clean()
    current.version = F("version") + 1
    with set_actor(actor):
        current.save()
    current.refresh_from_db()
    _touch(current.customer)
    return current


@transaction.atomic
def contact_person_delete(*, actor, person: ContactPerson) -> None:
    """Remove a contact person; their interactions stay on the customer's timeline."""
    _guard_restriction(person.customer)
    with set_actor(actor):
        person.delete()
    _touch(person.customer)


@transaction.atomic
def interaction_create(*, actor, customer: Customer, data: dict[str, Any]) -> Interaction:
    """Record a contact, meeting, service or note on the customer's timeline."""
    _guard_restriction(customer)
    interaction = Interaction(customer=customer, staff_user=actor)
    _apply(interaction, data)
    interaction.full_clean()
    with set_actor(actor):
        interaction.save()
    _touch(customer)
    return interaction


@transaction.atomic
def interaction_update(
    *, actor, interaction: Interaction, data: dict[str, Any], version: int | None = None
) -> Interaction:
    """Correct an interaction: one's own, or a colleague's with CHANGE_OTHERS_ENTRIES (the owner).

    With `version` (the integration API's If-Match), refused when someone else saved a newer version first.
    """
    _require_entry_right(actor, interaction)
    _guard_restriction(interaction.customer)
    current = Interaction.objects.select_for_update().get(pk=interaction.pk)
    if version is not None and current.version != version:
        raise EditConflictError(ERROR_EDIT_CONFLICT, code="conflict")
    _apply(interaction, data)
    interaction.full_clean()
    interaction.version = current.version + 1
    with set_actor(actor):
        interaction.save()
    _touch(interaction.customer)
    return interaction


@transaction.atomic
def interaction_delete(*, actor, interaction: Interaction) -> None:
    """Remove an interaction from the timeline: one's own, or a colleague's with CHANGE_OTHERS_ENTRIES (the owner)."""
    _require_entry_right(actor, interaction)
    _guard_restriction(interaction.customer)
    with set_actor(actor):
        interaction.delete()
    _touch(interaction.customer)


# Objection and restriction (GDPR 18, 21) only ever narrow what may be done with the data, so they take effect
# even while processing is restricted, and without `full_clean()`: a record that no longer validates (a field the
# register stopped collecting) must not delay an objection.


@transaction.atomic
def customer_marketing_objection_set(*, actor, customer: Customer) -> Customer:
    """Record that the customer objects to direct marketing (takes effect at once, GDPR 21(3))."""
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if current.marketing_objection:
        return current
    current.marketing_objection = True
    _stamp_marketing_objection(current, was_objecting=False)
    current.version = F("version") + 1
    with set_actor(actor):
        current.save(update_fields=["marketing_objection", "marketing_objection_at", "version", "updated_at"])
    current.refresh_from_db()
    return current


@transaction.atomic
def contact_person_marketing_objection_set(*, actor, contact_person: ContactPerson) -> ContactPerson:
    """Record that a contact person objects to direct marketing to themself (GDPR 21(3)), whatever their
    organisation's own choice: campaigns to the organisation's contact persons leave them out."""
    current = ContactPerson.objects.select_for_update().get(pk=contact_person.pk)
    if current.marketing_objection:
        return current
    current.marketing_objection = True
    current.marketing_objection_at = timezone.now()
    current.version = F("version") + 1
    with set_actor(actor):
        current.save(update_fields=["marketing_objection", "marketing_objection_at", "version", "updated_at"])
    current.refresh_from_db()
    return current


@transaction.atomic
def customer_restriction_set(*, actor, customer: Customer, restricted: bool) -> Customer:
    """Restrict processing of the customer's data to storage (GDPR 18), or lift the restriction."""
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if current.processing_restricted == restricted:
        return current
    current.processing_restricted = restricted
    current.processing_restricted_at = timezone.now() if restricted else None
    current.version = F("version") + 1
    with set_actor(actor):
        current.save(update_fields=["processing_restricted", "processing_restricted_at", "version", "updated_at"])
    current.refresh_from_db()
    return current


ERROR_PROFILE_LINK_RIGHTS = _(
    "Only the register's owner or a request handler may link a customer to a Helsinki profile."
)


@transaction.atomic
def customer_profile_link(*, actor, customer: Customer, profile_id) -> Customer:
    """Link the customer to a Helsinki profile (its id), or clear the link with None.

    The profile's GDPR API (api.gdpr) then shows this record to the person and erases it on their word, so only
    someone who handles data-subject requests in the register sets it: the owner or a handler, after identifying
    the person. The change is audited like any change of the record.
    """
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if not user_can(user=actor, register=current.register, perm=roles.HANDLE_REQUESTS):
        raise PermissionDenied(ERROR_PROFILE_LINK_RIGHTS)
    return _profile_id_set(actor=actor, current=current, profile_id=profile_id)


@transaction.atomic
def customer_profile_link_by_identification(*, customer: Customer, profile_id) -> Customer:
    """Link the customer to the profile id of the person who proved with strong electronic identification that
    the record is theirs (selfservice): the person is the actor, no user. A record already linked to another
    profile keeps its link; that conflict is for a handler (customer_profile_link)."""
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if current.profile_id is not None:
        return current
    return _profile_id_set(actor=None, current=current, profile_id=profile_id)


def _profile_id_set(*, actor, current: Customer, profile_id) -> Customer:
    if current.profile_id == profile_id:
        return current
    current.profile_id = profile_id
    current.full_clean()
    current.version = F("version") + 1
    with set_actor(actor):
        current.save(update_fields=["profile_id", "version", "updated_at"])
    current.refresh_from_db()
    return current


@transaction.atomic
def invoice_status_set(*, actor, invoice: Invoice, status: str, updated_at=None) -> Invoice:
    """Record an invoice's state as the billing system reports it: open, paid or in collection.

    Allowed while the customer's processing is restricted: the state of a claim is kept for the legal claim
    itself (GDPR 18(2)), and it decides whether an open invoice still holds the customer from erasure.
    With `updated_at` (the integration API's If-Match), refused when the invoice changed since it was read.
    """
    current = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if updated_at is not None and current.updated_at != updated_at:
        raise EditConflictError(ERROR_EDIT_CONFLICT, code="conflict")
    current.status = status
    current.full_clean()
    with set_actor(actor):
        current.save()
    return current
