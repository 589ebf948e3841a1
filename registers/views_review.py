"""The register owner's access-review screens and the PDF evidence of a completed review."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import access_review, roles
from .access_log import log_access
from .forms import ReviewDecisionForm
from .models import AccessReview, AccessReviewItem, Role
from .selectors import register_get_for_owner, user_can


def _review_for(request, register, code) -> tuple:
    register = register_get_for_owner(user=request.user, slug=register)
    try:
        review = register.access_reviews.select_related("register", "opened_by", "completed_by").get(code=code)
    except (AccessReview.DoesNotExist, ValueError):
        raise Http404 from None
    return register, review


def review_list(request, register):
    register = register_get_for_owner(user=request.user, slug=register)
    reviews = register.access_reviews.select_related("completed_by").order_by("-opened_at")
    can_review = user_can(user=request.user, register=register, perm=roles.REVIEW_ACCESS)
    return render(
        request,
        "registers/access_review_list.html",
        {"register": register, "reviews": reviews, "can_review": can_review},
    )


@require_POST
def review_open(request, register):
    register = register_get_for_owner(user=request.user, slug=register)
    try:
        review = access_review.access_review_open(register=register, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("registers:review-list", register=register.slug)
    messages.success(request, _("An access review was opened."))
    return redirect(review)


def review_detail(request, register, code):
    register, review = _review_for(request, register, code)
    items = list(review.items.select_related("user", "decided_by"))
    if review.status == AccessReview.Status.OPEN:
        # An open campaign shows today's facts; decided items keep their snapshot.
        facts = access_review.user_access_facts(
            register=register, user_ids=[i.user_id for i in items if i.decided_at is None]
        )
        for item in items:
            if item.user_id in facts:
                access_review._snapshot(item, facts[item.user_id])
    for item in items:
        item.role_rows = _role_rows(item.roles)
    can_review = access_review.access_review_can_decide(user=request.user, register=register)
    return render(
        request,
        "registers/access_review_detail.html",
        {
            "register": register,
            "review": review,
            "items": items,
            "pending": sum(1 for item in items if item.decision == AccessReviewItem.Decision.PENDING),
            "can_review": can_review and review.status == AccessReview.Status.OPEN,
            "decision_form": ReviewDecisionForm(),
            "changes": review.status_changes.filter(item__isnull=True).select_related("actor"),
        },
    )


@require_POST
def review_item_decide(request, register, code, item):
    register, review = _review_for(request, register, code)
    item = get_object_or_404(review.items, code=item)
    form = ReviewDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose keep or revoke."))
        return redirect(review)
    data = form.cleaned_data
    if data["decision"] == AccessReviewItem.Decision.REVOKE and not data["confirmed"]:
        # Revoking ends the user's roles at once: show what is about to happen before doing it.
        if not data["reason"].strip():
            messages.error(request, access_review.ERROR_REASON_FOR_REVOKE)
            return redirect(review)
        if _revoke_may_proceed(request.user, register, review, item):
            return _render_revoke_confirmation(request, register, review, item, data["reason"])
    try:
        access_review.access_review_item_decide(
            item=item, decision=form.cleaned_data["decision"], reason=form.cleaned_data["reason"], actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        name = item.user.get_full_name() or item.user.get_username()
        if form.cleaned_data["decision"] == AccessReviewItem.Decision.REVOKE:
            messages.success(request, _("The access of %(name)s was revoked.") % {"name": name})
        else:
            messages.success(request, _("The access of %(name)s is kept.") % {"name": name})
    return redirect(review)


def _role_rows(snapshot: list[dict]) -> list[dict]:
    """The roles of a snapshot for the screen: names in the reader's language, dates as dates."""
    return [
        {
            # The snapshot keeps the role's code, and its name in the language of the day it was taken.
            "label": _label(Role, role["role"]) if role.get("role") else role.get("role_label", ""),
            "granted_by": role.get("granted_by", ""),
            "granted_on": parse_date(role.get("granted_on") or "") or role.get("granted_on", ""),
            "ends_on": parse_date(role.get("ends_on") or "") or role.get("ends_on", ""),
        }
        for role in snapshot
    ]


def _revoke_may_proceed(user, register, review, item) -> bool:
    """Whether the service would accept the revoke; if not, its own error explains why, without a detour."""
    return (
        review.status == AccessReview.Status.OPEN
        and item.decision != AccessReviewItem.Decision.REVOKE
        and item.user_id != user.pk
        and access_review.access_review_can_decide(user=user, register=register)
    )


def _render_revoke_confirmation(request, register, review, item, reason):
    facts = access_review.user_access_facts(register=register, user_ids=[item.user_id])[item.user_id]
    context = {
        "register": register,
        "review": review,
        "item": item,
        "name": item.user.get_full_name() or item.user.get_username(),
        "roles": [role["label"] for role in _role_rows(facts["roles"])],
        "reason": reason,
    }
    return render(request, "registers/access_review_confirm.html", context)


@require_POST
def review_complete(request, register, code):
    register, review = _review_for(request, register, code)
    try:
        access_review.access_review_complete(review=review, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The access review is complete."))
    return redirect(review)


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"PDF evidence loads no outside resources: {url}")


def _label(choices, code: str) -> str:
    """The label of a stored code in the reader's language; a code no longer among the choices shows as stored."""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def _evidence_items(review: AccessReview) -> list[AccessReviewItem]:
    items = list(review.items.select_related("user", "decided_by"))
    for item in items:
        # The snapshot keeps codes and ISO dates, and the role name in the language of the day it was taken.
        item.role_rows = [
            {
                "label": _label(Role, role.get("role", "")) if role.get("role") else role.get("role_label", ""),
                "granted_by": role.get("granted_by", ""),
                "granted_on": parse_date(role.get("granted_on") or "") or role.get("granted_on", ""),
            }
            for role in item.roles
        ]
    return items


def _evidence_changes(review: AccessReview) -> list:
    changes = list(review.status_changes.select_related("actor", "item__user"))
    for change in changes:
        # A row with an item is a decision on a user's access; the others move the whole campaign.
        choices = AccessReviewItem.Decision if change.item_id else AccessReview.Status
        change.old_label = _label(choices, change.old) if change.old else "\u2013"
        change.new_label = _label(choices, change.new)
    return changes


def review_evidence_html(request, register, review: AccessReview) -> str:
    """The evidence of a completed review as HTML, in the reader's language: the source of its PDF."""
    return render_to_string(
        "registers/access_review_pdf.html",
        {
            "register": register,
            "review": review,
            "items": _evidence_items(review),
            "changes": _evidence_changes(review),
            "printed_at": timezone.now(),
            "printed_by": request.user,
        },
        request=request,
    )


def review_pdf(request, register, code):
    register, review = _review_for(request, register, code)
    if review.status != AccessReview.Status.COMPLETED:
        raise Http404
    # Imported here: WeasyPrint loads Pango at import, which only this view needs.
    from weasyprint import HTML

    html = review_evidence_html(request, register, review)
    # The evidence names every user of the register, their roles and who decided: a download is an access.
    log_access(request, review, {"register": register, "view": "access_review_pdf"})
    # The template inlines its styles; nothing is fetched while rendering.
    pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"access-review-{register.slug}-{review.completed_at:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
