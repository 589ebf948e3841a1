"""The front page's count of open document requests for their handlers, with those past their two weeks (or
month) first (the front page belongs to registers, which imports no app above it: its template loads this tag)."""

from django import template
from django.utils import timezone

from .. import selectors
from ..models import DocumentRequest

register = template.Library()


@register.inclusion_tag("openness/_open_requests.html", takes_context=True)
def open_document_requests(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not selectors.handled_register_ids(user=user):
        return {"show": False}
    waiting = selectors.document_request_list(user=user).filter(state__in=DocumentRequest.OPEN_STATES)
    overdue = waiting.filter(state__in=DocumentRequest.CLOCK_STATES, due_at__lt=timezone.now())
    return {"show": True, "count": waiting.count(), "overdue": overdue.count()}
