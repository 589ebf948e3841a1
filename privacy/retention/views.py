"""Retention preview and control for register owners: what the next purge run would do, legal holds, run now."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.selectors import customer_list
from registers import roles
from registers.selectors import register_get_for_owner, user_can

from .forms import LegalHoldForm, LegalHoldReleaseForm
from .holds import legal_hold_get, legal_hold_list, legal_hold_place, legal_hold_release
from .models import HoldType, PurgeCount, PurgeRun
from .policies import register_hold_active, retention_due_customers, retention_preview
from .purge import purge_run_task


def _customer_for_hold(request, register, code):
    if code is None:
        return None
    try:
        return customer_list(user=request.user, register=register).get(code=code)
    except Exception:  # DoesNotExist, or a malformed code
        raise Http404 from None


@require_GET
def retention_preview_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    may_list = user_can(user=request.user, register=register, perm=roles.VIEW_DATA)
    page = None
    if may_list:
        visible = customer_list(user=request.user, register=register).values("pk")
        # Each row links to its customer, whose URL names the register: read it with the row.
        due = retention_due_customers(register=register).filter(pk__in=visible).select_related("register")
        page = Paginator(due, 50).get_page(request.GET.get("page"))
    customer = _customer_for_hold(request, register, request.GET.get("customer")) if may_list else None
    form = LegalHoldForm(initial={"customer": customer.code if customer else None})
    context = {
        "register": register,
        "rows": retention_preview(register=register),
        "hold_labels": dict(HoldType.choices),
        "register_hold": register_hold_active(register, None),
        "page": page,
        "holds": legal_hold_list(register=register)[:100],
        "hold_customer": customer,
        "form": form,
        "release_form": LegalHoldReleaseForm(),
        "counts": PurgeCount.objects.filter(register=register).select_related("run").order_by("-run__started_at")[:20],
        "skipped": PurgeRun.objects.filter(status=PurgeRun.Status.SKIPPED).order_by("-started_at")[:5],
    }
    return render(request, "privacy/retention_preview.html", context)


@require_POST
def legal_hold_place_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        customer = _customer_for_hold(request, register, form.cleaned_data["customer"])
        try:
            legal_hold_place(
                actor=request.user,
                register=register,
                customer=customer,
                reason=form.cleaned_data["reason"],
                ends_on=form.cleaned_data["ends_on"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The legal hold is in force."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("retention:preview", slug=register.slug)


@require_POST
def legal_hold_release_view(request, slug, code):
    register = register_get_for_owner(user=request.user, slug=slug)
    hold = legal_hold_get(register=register, code=code)
    form = LegalHoldReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for releasing the hold."))
        return redirect("retention:preview", slug=register.slug)
    try:
        legal_hold_release(actor=request.user, hold=hold, reason=form.cleaned_data["release_reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The legal hold was released."))
    return redirect("retention:preview", slug=register.slug)


@require_POST
def purge_run_now_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    transaction.on_commit(
        lambda: purge_run_task.delay(
            register_code=str(register.code), actor_id=request.user.pk, trigger=PurgeRun.Trigger.MANUAL
        )
    )
    messages.success(request, _("The purge run was started. Its result appears below when it has finished."))
    return redirect("retention:preview", slug=register.slug)
