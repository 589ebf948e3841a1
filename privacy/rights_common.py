"""Small shared steps of the rights services: state and kind checks, and the person's records in a request."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.models import Customer

from .models import DataSubjectRequest
from .services import ERROR_WRONG_STATE

ERROR_WRONG_KIND = _("This step does not belong to a request of type “%(kind)s”.")


def require(request: DataSubjectRequest, *, kinds=(), states=()) -> None:
    """Raise ValidationError unless the request is of one of `kinds` and in one of `states`."""
    if kinds and request.kind not in kinds:
        raise ValidationError(
            ERROR_WRONG_KIND, code="wrong_kind", params={"kind": DataSubjectRequest.Kind(request.kind).label}
        )
    if states and request.state not in states:
        raise ValidationError(
            ERROR_WRONG_STATE, code="wrong_state", params={"state": DataSubjectRequest.State(request.state).label}
        )


def matched_customers(request: DataSubjectRequest, *, include_organisations: bool = False) -> list[Customer]:
    """Return the customers confirmed as the person's; with `include_organisations`, also the organisations of
    confirmed contact persons (their data travels in the organisation's record, e.g. in a disclosure)."""
    ids = set(request.matches.exclude(customer=None).values_list("customer_id", flat=True))
    if include_organisations:
        ids |= set(request.matches.exclude(contact_person=None).values_list("contact_person__customer_id", flat=True))
    return list(Customer.objects.filter(pk__in=ids).select_related("register").order_by("register_id", "pk"))
