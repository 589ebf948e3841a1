"""Reads of campaigns: only in a register whose description allows direct marketing, only for its senders.

A register with `direct_marketing` off offers no campaign at all: every campaign URL answers 404 there, as if
the feature did not exist, and no link leads to it. Elsewhere, a user who sees the register but holds no
SEND_CAMPAIGNS right (staff, read-only roles) gets 403; another register's campaign is 404.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from crm.models import SavedView
from crm.selectors import register_get_with_access, user_holds_right
from registers import roles
from registers.models import Register

from .models import Campaign, CampaignRecipient

ERROR_NO_CAMPAIGN_RIGHT = _("Only the register's owner and handlers send campaigns.")


def user_may_send_campaigns(*, user, register: Register) -> bool:
    """Tell whether the register offers campaigns and the user may send them."""
    return (
        register.kind == Register.Kind.CUSTOMER
        and register.direct_marketing
        and user.is_authenticated
        and user_holds_right(user=user, register=register, right=roles.SEND_CAMPAIGNS)
    )


def campaign_register_get(*, user, slug: str) -> Register:
    """Return the register for the campaign pages: 404 unseen or without direct marketing, 403 without the right."""
    register = register_get_with_access(user=user, slug=slug, kind=Register.Kind.CUSTOMER)
    if not register.direct_marketing:
        raise Http404
    if not register.can_change or not user_holds_right(user=user, register=register, right=roles.SEND_CAMPAIGNS):
        raise PermissionDenied(ERROR_NO_CAMPAIGN_RIGHT)
    return register


def campaign_list(*, user, register: Register) -> QuerySet[Campaign]:
    if not user_may_send_campaigns(user=user, register=register):
        return Campaign.objects.none()
    return Campaign.objects.filter(register=register).select_related("segment", "created_by")


def campaign_get_for_user(*, user, register: Register, code) -> Campaign:
    """Return the register's campaign or raise 404 (also for another register's campaign)."""
    try:
        return campaign_list(user=user, register=register).get(code=code)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def segment_choices(*, user, register: Register) -> QuerySet[SavedView]:
    """The saved views the user may use as a campaign's segment: their own and those shared with the register."""
    return SavedView.objects.filter(register=register).filter(Q(owner=user) | Q(shared=True)).order_by("name", "pk")


def campaign_progress(campaign: Campaign) -> dict:
    """Counts of the campaign's recipients by state (one query), with the share done in percent."""
    counts = dict.fromkeys(CampaignRecipient.State.values, 0)
    rows = CampaignRecipient.objects.filter(campaign=campaign).values("state").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts[row["state"]] = row["n"]
    total = sum(counts.values())
    done = total - counts[CampaignRecipient.State.QUEUED] - counts[CampaignRecipient.State.SENDING]
    return {**counts, "total": total, "done": done, "percent": round(100 * done / total) if total else 0}


def campaign_failures(campaign: Campaign) -> QuerySet[CampaignRecipient]:
    """The recipients left out at the last check or whose message may not have left, for the sender to see."""
    return CampaignRecipient.objects.filter(
        campaign=campaign, state__in=[CampaignRecipient.State.FAILED, CampaignRecipient.State.SKIPPED]
    ).order_by("pk")
