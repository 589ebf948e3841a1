"""The follow-up panels other apps' pages show: a customer's follow-ups, and "my follow-ups" on the front page."""

import datetime

from django import template
from django.conf import settings
from django.utils import timezone

from followups import selectors

register = template.Library()

# Follow-ups the front page lists; the "my follow-ups" page shows them all.
FRONT_PAGE_SHOWN = 10
# A follow-up done this recently stays on the customer's card, to be marked not done after a mistaken click.
RECENTLY_DONE = datetime.timedelta(days=7)


@register.inclusion_tag("followups/_customer_followups.html", takes_context=True)
def customer_followups(context, customer):
    """Show the customer's open follow-ups, overdue ones marked, with done and edit controls for those who may."""
    request = context["request"]
    register = context.get("register") or customer.register
    # The customer page's own flag: a changer, and processing not restricted.
    can_edit = bool(context.get("can_edit", getattr(register, "can_change", False)))
    done_since = timezone.now() - RECENTLY_DONE
    followups = list(selectors.followups_for_customer(user=request.user, customer=customer, done_since=done_since))
    for followup in followups:
        followup.customer = customer  # the page's customer, with its register: no query per row
    return {
        "request": request,
        "customer": customer,
        "register": register,
        "followups": followups,
        "has_open": any(not followup.is_done for followup in followups),
        "today": timezone.localdate(),
        "can_edit": can_edit,
        "next": request.get_full_path(),
    }


@register.inclusion_tag("followups/_my_followups.html", takes_context=True)
def my_followups(context):
    """Show the signed-in user's open follow-ups, overdue first, and this month's figures of their registers."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    figures = selectors.month_figures(user=user, minimum=settings.STATISTICS_MIN_CELL)
    followups = list(selectors.my_followups(user=user, limit=FRONT_PAGE_SHOWN + 1))
    return {
        "show": bool(figures or followups),
        "followups": followups[:FRONT_PAGE_SHOWN],
        "more": len(followups) > FRONT_PAGE_SHOWN,
        "today": timezone.localdate(),
        "changeable": selectors.changeable_register_ids(user=user),
        "figures": figures,
        "min_cell": settings.STATISTICS_MIN_CELL,
        "next": request.get_full_path(),
    }
