"""The front page's "waiting for you" list of data-subject requests.

The front page belongs to `registers`, which must not import privacy (STYLE.md: imports run
registers <- crm <- privacy); its template loads this tag, which lives on the privacy side.
"""

from django import template

from privacy.requests import selectors
from privacy.requests.models import DataSubjectRequest
from registers import roles

register = template.Library()

State = DataSubjectRequest.State
# Where the next step is the handler's: identity, triage, preparing the answer. A request on hold waits for
# the person, one in review for the approver, a received one for the person's e-mail confirmation.
HANDLER_STATES = frozenset({State.VERIFYING, State.TRIAGE, State.IN_PROGRESS})
APPROVER_STATES = frozenset({State.REVIEW})
# Answers to approve are listed one by one (they are few); the handler's work is counted and the queue lists it.
APPROVALS_SHOWN = 10


def _waiting(user, perm: str, states) -> object:
    registers = selectors.request_register_ids(user=user, perms=(perm,))
    if not registers:
        return None
    return (
        selectors.request_list(user=user)
        .filter(state__in=states, register_parts__register_id__in=registers)
        .distinct()
        .order_by("service_due_at", "created_at")
    )


@register.inclusion_tag("privacy/_open_work.html", takes_context=True)
def open_requests(context):
    """Show the requests whose next step is the signed-in user's: to handle (count) and to approve (list)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    to_handle = _waiting(user, roles.HANDLE_REQUESTS, HANDLER_STATES)
    to_approve = _waiting(user, roles.APPROVE_REQUESTS, APPROVER_STATES)
    if to_handle is None and to_approve is None:
        return {"show": False}
    approvals = list(to_approve[: APPROVALS_SHOWN + 1]) if to_approve is not None else []
    return {
        "show": True,
        "handles": to_handle is not None,
        "handle_count": to_handle.count() if to_handle is not None else 0,
        "approves": to_approve is not None,
        "approvals": approvals[:APPROVALS_SHOWN],
        "approvals_more": len(approvals) > APPROVALS_SHOWN,
    }
