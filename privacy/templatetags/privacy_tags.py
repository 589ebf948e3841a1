"""Template helpers of data-subject requests: the home-page deadline list and day counts."""

from django import template

from privacy.requests import selectors

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
