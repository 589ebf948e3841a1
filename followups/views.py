"""Follow-up pages: add and change one from a customer's page, mark it done or undone, remove it, and the
user's own list with the daily e-mail setting.

The register comes from the URL through `crm.selectors.register_get_with_access` (404 for a register the user
was not granted); read-only roles get 403 on every form; changes go through `followups.services`.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import selectors as crm_selectors
from crm.display import page_number
from crm.forms import add_model_errors
from registers.models import Register, UserProfile

from . import selectors, services
from .forms import DigestSettingForm, FollowUpForm

FORM_METHODS = ["GET", "POST"]
PAGE_SIZE = 50


def _register(request, slug: str) -> Register:
    return crm_selectors.register_get_with_access(user=request.user, slug=slug, kind=Register.Kind.CUSTOMER)


def _next_or(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    # A path on this site only: redirect() would read any other word as a view's name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_http_methods(FORM_METHODS)
def followup_create(request, register, code):
    register = _register(request, register)
    customer = crm_selectors.customer_get_for_user_rw(user=request.user, register=register, code=code)
    form = FollowUpForm(
        request.POST or None, register=register, customer=customer, initial={"assignee": str(request.user.pk)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_create(actor=request.user, customer=customer, **form.service_data())
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The follow-up was added."))
            return redirect(customer)
    return render(request, "followups/followup_form.html", {"register": register, "customer": customer, "form": form})


@require_http_methods(FORM_METHODS)
def followup_update(request, register, followup):
    register = _register(request, register)
    followup = selectors.followup_get_for_user_rw(user=request.user, register=register, code=followup)
    customer = followup.customer
    initial = {
        "assignee": str(followup.assignee_id),
        "due_on": followup.due_on,
        "note": followup.note,
        "contact_person": str(followup.contact_person.code) if followup.contact_person_id else "",
    }
    form = FollowUpForm(request.POST or None, register=register, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_update(actor=request.user, followup=followup, **form.service_data())
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(customer)
    context = {"register": register, "customer": customer, "form": form, "followup": followup}
    return render(request, "followups/followup_form.html", context)


def _toggle(request, register, followup, service, message: str):
    register = _register(request, register)
    followup = selectors.followup_get_for_user_rw(user=request.user, register=register, code=followup)
    try:
        service(actor=request.user, followup=followup)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, message)
    return HttpResponseRedirect(_next_or(request, followup.customer.get_absolute_url()))


@require_POST
def followup_done(request, register, followup):
    return _toggle(request, register, followup, services.followup_done, _("The follow-up was marked done."))


@require_POST
def followup_reopen(request, register, followup):
    return _toggle(request, register, followup, services.followup_reopen, _("The follow-up is open again."))


@require_http_methods(FORM_METHODS)
def followup_delete(request, register, followup):
    register = _register(request, register)
    followup = selectors.followup_get_for_user_rw(user=request.user, register=register, code=followup)
    customer = followup.customer
    if request.method == "POST":
        try:
            services.followup_delete(actor=request.user, followup=followup)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("The follow-up was removed."))
        return redirect(customer)
    context = {"register": register, "customer": customer, "followup": followup}
    return render(request, "followups/followup_delete.html", context)


@require_GET
def followup_mine(request):
    paginator = Paginator(selectors.my_followups(user=request.user), PAGE_SIZE)
    page = paginator.get_page(page_number(request.GET.get("page")))
    profile = UserProfile.objects.filter(user=request.user).first()
    digest = DigestSettingForm(initial={"followup_digest": profile.followup_digest if profile else True})
    context = {
        "page": page,
        "digest_form": digest,
        "changeable": selectors.changeable_register_ids(user=request.user),
        "today": timezone.localdate(),
        "next": request.get_full_path(),
    }
    return render(request, "followups/followup_mine.html", context)


@require_POST
def digest_setting(request):
    form = DigestSettingForm(request.POST)
    form.is_valid()
    services.followup_digest_set(actor=request.user, enabled=form.cleaned_data.get("followup_digest", False))
    if form.cleaned_data.get("followup_digest"):
        messages.success(request, _("You will get a daily e-mail of your follow-ups."))
    else:
        messages.success(request, _("You will no longer get a daily e-mail of your follow-ups."))
    return redirect(reverse("followups:mine"))
