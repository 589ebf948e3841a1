"""The register owner's access-review screens and the PDF evidence of a completed review."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import access_review, roles
from .audit import user_access_facts
from .forms import ReviewDecisionForm
from .models import AccessReview, AccessReviewItem
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
        facts = user_access_facts(register=register, user_ids=[i.user_id for i in items if i.decided_at is None])
        for item in items:
            if item.user_id in facts:
                access_review._snapshot(item, facts[item.user_id])
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


def review_pdf(request, register, code):
    register, review = _review_for(request, register, code)
    if review.status != AccessReview.Status.COMPLETED:
        raise Http404
    # Imported here: WeasyPrint loads Pango at import, which only this view needs.
    from weasyprint import HTML

    html = render_to_string(
        "registers/access_review_pdf.html",
        {
            "register": register,
            "review": review,
            "items": review.items.select_related("user", "decided_by"),
            "changes": review.status_changes.select_related("actor", "item__user"),
            "printed_at": timezone.now(),
            "printed_by": request.user,
        },
        request=request,
    )
    # The template inlines its styles; nothing is fetched while rendering.
    pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"access-review-{register.slug}-{review.completed_at:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
