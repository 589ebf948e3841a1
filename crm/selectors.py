"""Permission-aware reads of customer and archive data.

Every query of personal data in views, exports and tasks goes through these
functions, which scope by the registers the user holds a role in first.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from registers import roles
from registers.models import Register, Role
from registers.selectors import register_list, user_roles

from .models import CallRecording, ContactCentreMessage, ContactPerson, Customer, Interaction

ERROR_READ_ONLY = "You have read-only access to this register."


def customer_list(*, user, register: Register | None = None, search: str = "") -> QuerySet[Customer]:
    """Return the customers of the user's registers, optionally of one register and matching `search`."""
    registers = register_list(user=user).filter(kind=Register.Kind.CUSTOMER)
    queryset = Customer.objects.filter(register__in=registers)
    if register is not None:
        queryset = queryset.filter(register=register)
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(sort_name__contains=search.casefold())
            | Q(business_id__icontains=search)
            | Q(email__icontains=search)
            | Q(mobile__contains=search)
            | Q(landline__contains=search)
        )
    return queryset.select_related("register")


def customer_get_for_user(*, user, register: Register, code) -> Customer:
    """Return the customer or raise 404, also when it belongs to a register the user may not see."""
    try:
        return customer_list(user=user, register=register).get(code=code)
    except (Customer.DoesNotExist, ValueError):
        raise Http404 from None


def customer_get_for_user_rw(*, user, register: Register, code) -> Customer:
    """Return the customer for a change, raising 403 for read-only roles."""
    customer = customer_get_for_user(user=user, register=register, code=code)
    if not register_list(user=user, perm=roles.CHANGE_DATA).filter(pk=register.pk).exists():
        raise PermissionDenied(ERROR_READ_ONLY)
    return customer


def contact_person_get_for_user(*, user, customer: Customer, code) -> ContactPerson:
    try:
        return customer.contact_persons.get(code=code)
    except (ContactPerson.DoesNotExist, ValueError):
        raise Http404 from None


def interaction_get_for_user(*, user, customer: Customer, code) -> Interaction:
    try:
        return customer.interactions.get(code=code)
    except (Interaction.DoesNotExist, ValueError):
        raise Http404 from None


def customer_timeline(*, customer: Customer) -> QuerySet[Interaction]:
    """Return the customer's interactions, newest first."""
    return customer.interactions.select_related("contact_person", "staff_user")


def _archive_scope(*, user, register: Register, model):
    if register.kind != Register.Kind.CONTACT_CENTRE or not register_list(user=user).filter(pk=register.pk).exists():
        raise Http404
    queryset = model.objects.filter(register=register).select_related("ordering_client")
    held = user_roles(user=user, register=register)
    # An ordering client's manager sees only the own department's items;
    # any other role in the register sees the whole archive.
    if held == {Role.CLIENT_MANAGER}:
        queryset = queryset.filter(ordering_client__managers=user)
    return queryset


def message_list(*, user, register: Register) -> QuerySet[ContactCentreMessage]:
    """Return the archived messages of a contact-centre register that the user may read."""
    return _archive_scope(user=user, register=register, model=ContactCentreMessage)


def call_recording_list(*, user, register: Register) -> QuerySet[CallRecording]:
    """Return the call-recording metadata of a contact-centre register that the user may read."""
    return _archive_scope(user=user, register=register, model=CallRecording)
