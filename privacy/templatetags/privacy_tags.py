"""Template helpers of data-subject requests: the home-page deadline list, day counts and the history lines."""

from django import template
from django.utils import formats
from django.utils.dateparse import parse_date

from privacy import event_text
from privacy.requests import selectors
from privacy.rights import restriction_lift

register = template.Library()


@register.filter
def days_abs(value: int) -> int:
    return abs(value)


@register.inclusion_tag("privacy/_due_requests.html", takes_context=True)
def due_requests(context):
    """Show the signed-in user's overdue and near-due requests (the home page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not selectors.request_register_ids(user=user):
        return {"show": False}
    return {"show": True, "due": list(selectors.request_due_soon(user=user).prefetch_related("registers")[:20])}


@register.filter
def event_details(event) -> list[str]:
    """What a line of a request's history says, in the reader's language (privacy.event_text)."""
    return event_text.event_details(event)


@register.filter
def iso_date(value) -> str:
    """Show an ISO date kept as text (the answer's JSON content) in the reader's short date format."""
    if not isinstance(value, str):
        return value
    try:
        parsed = parse_date(value)
    except ValueError:  # shaped like a date but not one (2026-02-30)
        return value
    return formats.date_format(parsed, "SHORT_DATE_FORMAT") if parsed else value


@register.inclusion_tag("privacy/_restriction_lift_badge.html")
def restriction_lift_badge(customer):
    """Say on a restricted customer's page that the restriction is about to be lifted (GDPR 18(3))."""
    if not getattr(customer, "processing_restricted", False):
        return {"lift": None}
    return {"lift": restriction_lift.lift_pending_for_customer(customer)}
