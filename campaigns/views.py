"""The campaign pages of a register, and the public one-click objection page of a campaign message.

Every register page resolves the register through `selectors.campaign_register_get`: 404 for a register the
user does not see or one that allows no direct marketing, 403 without the right to send campaigns.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.forms import add_model_errors
from privacy.rights.marketing import marketing_objection_by_address
from registers import roles
from registers.access import user_access

from . import selectors, services
from .audience import EXCLUSION_REASONS, audience_count
from .forms import CampaignForm, QueueForm
from .sending import campaign_preview, unsubscribe_recipient

FORM_METHODS = ["GET", "POST"]
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _workspace(request, slug: str):
    register = selectors.campaign_register_get(user=request.user, slug=slug)
    return register, {"register": register, "user_registers": user_access(request.user).links_for(roles.VIEW_DATA)}


def _campaign(request, slug: str, code):
    register, context = _workspace(request, slug)
    campaign = selectors.campaign_get_for_user(user=request.user, register=register, code=code)
    return campaign, {**context, "campaign": campaign}


@require_GET
def campaign_list(request, register):
    register, context = _workspace(request, register)
    return render(
        request,
        "campaigns/campaign_list.html",
        {**context, "campaigns": selectors.campaign_list(user=request.user, register=register)},
    )


@require_http_methods(FORM_METHODS)
def campaign_create(request, register):
    register, context = _workspace(request, register)
    form = CampaignForm(request.POST or None, segments=selectors.segment_choices(user=request.user, register=register))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, register=register, data=form.cleaned_data)
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The campaign was saved as a draft."))
            return redirect("campaigns:detail", register=register.slug, code=campaign.code)
    return render(request, "campaigns/campaign_form.html", {**context, "form": form})


@require_http_methods(FORM_METHODS)
def campaign_update(request, register, code):
    campaign, context = _campaign(request, register, code)
    segments = selectors.segment_choices(user=request.user, register=campaign.register)
    form = CampaignForm(request.POST or None, segments=segments, initial=CampaignForm.initial_from(campaign))
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(actor=request.user, campaign=campaign, data=form.cleaned_data)
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The campaign was saved as a draft."))
            return redirect("campaigns:detail", register=campaign.register.slug, code=campaign.code)
    return render(request, "campaigns/campaign_form.html", {**context, "form": form})


@require_GET
def campaign_detail(request, register, code):
    campaign, context = _campaign(request, register, code)
    extra = {"progress": selectors.campaign_progress(campaign)}
    if campaign.state == campaign.State.DRAFT:
        counted = audience_count(user=request.user, campaign=campaign)
        extra.update(audience=counted, exclusions=counted.exclusions, queue_form=QueueForm())
    else:
        extra.update(exclusions=campaign.exclusions, failures=selectors.campaign_failures(campaign)[:200])
    extra["exclusion_rows"] = [(label, extra["exclusions"].get(code, 0)) for code, label in EXCLUSION_REASONS.items()]
    extra["previews"] = campaign_preview(campaign)
    return render(request, "campaigns/campaign_detail.html", {**context, **extra})


@require_GET
def campaign_progress(request, register, code):
    campaign, context = _campaign(request, register, code)
    if not request.headers.get("HX-Request"):
        # Opened by itself (a bookmark, a browser without JavaScript): the campaign's page shows the same progress.
        return redirect("campaigns:detail", register=campaign.register.slug, code=campaign.code)
    context["progress"] = selectors.campaign_progress(campaign)
    return render(request, "campaigns/_progress.html", context)


@require_POST
def campaign_test_send(request, register, code):
    campaign, _context = _campaign(request, register, code)
    try:
        sent = services.campaign_test_send(actor=request.user, campaign=campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = ngettext(
            "%(count)s test message was sent to your address.",
            "%(count)s test messages were sent to your address, one in each language.",
            sent,
        )
        messages.success(request, text % {"count": sent})
    return redirect("campaigns:detail", register=campaign.register.slug, code=campaign.code)


@require_POST
def campaign_queue(request, register, code):
    campaign, _context = _campaign(request, register, code)
    form = QueueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm the send."))
    else:
        try:
            services.campaign_queue(actor=request.user, campaign=campaign)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The campaign is being sent."))
    return redirect("campaigns:detail", register=campaign.register.slug, code=campaign.code)


@require_POST
def campaign_cancel(request, register, code):
    campaign, _context = _campaign(request, register, code)
    try:
        services.campaign_cancel(actor=request.user, campaign=campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The campaign was cancelled."))
    return redirect("campaigns:detail", register=campaign.register.slug, code=campaign.code)


def _objection_record(recipient, method: str) -> None:
    campaign = recipient.campaign
    marketing_objection_by_address(
        organisation=campaign.register.organisation,
        email=recipient.email,
        evidence={
            "campaign": str(campaign.code),
            "recipient": recipient.token.hex,
            "method": method,
            "at": timezone.now().isoformat(),
        },
    )


@csrf_protect
def _unsubscribe_page(request, recipient):
    done = False
    if request.method == "POST":
        _objection_record(recipient, "page")
        done = True
    return render(request, "campaigns/unsubscribe.html", {"recipient": recipient, "done": done})


@login_not_required
@csrf_exempt
@require_http_methods(FORM_METHODS)
def unsubscribe(request, token):
    """The one-click objection (RFC 8058): GET shows a button; POST records the objection.

    The mail provider's one-click POST carries the body `List-Unsubscribe=One-Click` and no CSRF token: the signed
    token is the authority, and the only thing it can do is stop marketing. Any other POST is the page's own
    form and goes through the CSRF check as usual. GET never changes anything: mail scanners prefetch links.
    """
    recipient = unsubscribe_recipient(token)
    if recipient is None:
        raise Http404
    # The page speaks the language of the message it came from, unless the visitor chose one on the site.
    language = None if settings.LANGUAGE_COOKIE_NAME in request.COOKIES else recipient.language
    with translation.override(language or translation.get_language()):
        if request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click":
            _objection_record(recipient, "rfc8058-post")
            return render(request, "campaigns/unsubscribe.html", {"recipient": recipient, "done": True})
        return _unsubscribe_page(request, recipient)
