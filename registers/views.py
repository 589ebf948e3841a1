from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from . import accounts, roles
from . import language as user_language
from .access_log import client_address
from .forms import MembershipGrantForm, ReasonForm, UserCreateForm
from .models import AccessReview, Membership
from .selectors import (
    commitment_pending_list,
    membership_list,
    register_get_for_manager,
    register_list,
)
from .services import _grantable_roles, is_main_user, membership_end, membership_grant, user_language_set


def home(request):
    user = request.user
    registers = register_list(user=user)
    reviewable = register_list(user=user, perm=roles.REVIEW_ACCESS)
    context = {
        "registers": registers,
        "manageable_pks": set(register_list(user=user, perm=roles.MANAGE_ACCESS).values_list("pk", flat=True)),
        "reviewable_pks": set(reviewable.values_list("pk", flat=True)),
        # Open campaigns of the registers this user owns; overdue ones are flagged.
        "open_reviews": AccessReview.objects.open().filter(register__in=reviewable).select_related("register"),
        "is_main_user": is_main_user(user),
        "overdue_review_count": AccessReview.objects.overdue().count() if is_main_user(user) else 0,
    }
    return render(request, "registers/home.html", context)


@login_not_required
@require_POST
def language_set(request):
    """Switch the language; a signed-in user's choice is remembered for their next sessions."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(actor=request.user, language=language)
        request.session[user_language.SESSION_KEY] = language
    return response


@login_not_required
def login_locked_out(request, original_response=None, credentials=None):
    """The django-axes lockout page: the same words whether or not the username exists."""
    return render(request, "registers/login_locked_out.html", status=429)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def commitment(request):
    """Show every commitment the user must still accept, to be accepted together with one click."""
    pending = list(commitment_pending_list(user=request.user))
    if request.method == "POST":
        # Only the versions the page showed are accepted; one published since then is shown next.
        shown = set(request.POST.getlist("code"))
        chosen = [commitment for commitment in pending if str(commitment.code) in shown]
        with transaction.atomic():
            for commitment in chosen:
                accounts.commitment_accept(
                    user=request.user, commitment=commitment, remote_addr=client_address(request)
                )
        if chosen:
            messages.success(request, _("Thank you. Your acceptance has been recorded."))
            if len(chosen) < len(pending):
                return redirect(f"{reverse('registers:commitment')}?{urlencode({'next': _next_url(request)})}")
            return redirect(_next_url(request))
    accepted = request.user.commitment_acceptances.select_related("commitment__organisation")[:20]
    return render(
        request,
        "registers/commitment_pending.html",
        {"pending": pending, "accepted": accepted, "next": _next_url(request)},
    )


@require_POST
def commitment_accept(request, code):
    commitment = get_object_or_404(commitment_pending_list(user=request.user), code=code)
    accounts.commitment_accept(user=request.user, commitment=commitment, remote_addr=client_address(request))
    messages.success(request, _("Thank you. Your acceptance has been recorded."))
    if commitment_pending_list(user=request.user).exists():
        return redirect(f"{reverse('registers:commitment')}?{urlencode({'next': _next_url(request)})}")
    return redirect(_next_url(request))


def _require_main_user(user) -> None:
    if not is_main_user(user):
        raise PermissionDenied


def user_list(request):
    _require_main_user(request.user)
    # Integration clients' machine users are not people: they have their own page.
    users = (
        get_user_model()
        .objects.exclude(groups__name=roles.INTEGRATION_CLIENTS_GROUP)
        .order_by("-is_active", "last_name", "first_name", "username")
    )
    return render(request, "registers/user_list.html", {"users": users})


def user_create(request):
    if not accounts.user_may_manage_accounts(request.user):
        raise PermissionDenied
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accounts.user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The account %(username)s was created and a link was sent.") % {"username": user.username}
            )
            return redirect("registers:user-list" if is_main_user(request.user) else "home")
    return render(request, "registers/user_create.html", {"form": form})


def _user_for_main_user(request, username):
    _require_main_user(request.user)
    return get_object_or_404(get_user_model(), username=username)


def user_detail(request, username):
    person = _user_for_main_user(request, username)
    memberships = Membership.objects.filter(user=person).select_related("register", "granted_by", "ended_by")
    acceptances = person.commitment_acceptances.select_related("commitment__organisation")
    return render(
        request,
        "registers/user_detail.html",
        {"person": person, "memberships": memberships, "acceptances": acceptances, "form": ReasonForm()},
    )


@require_POST
def user_deactivate(request, username):
    person = _user_for_main_user(request, username)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            result = accounts.user_deactivate(actor=request.user, user=person, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The account was deactivated: %(memberships)s roles and %(sessions)s sessions ended.") % result,
            )
    else:
        messages.error(request, _("Give a reason."))
    return redirect("registers:user-detail", username=person.username)


def _grant_form(request, register, data=None):
    grantable = _grantable_roles(actor=request.user, register=register)
    return MembershipGrantForm(data, register=register, grantable_roles=grantable)


def membership_list_view(request, register):
    register = register_get_for_manager(user=request.user, slug=register)
    return _render_memberships(request, register, _grant_form(request, register))


def _render_memberships(request, register, form, status=200):
    context = {
        "register": register,
        "memberships": membership_list(register=register),
        "form": form,
        "end_form": ReasonForm(),
    }
    return render(request, "registers/membership_list.html", context, status=status)


@require_POST
def membership_grant_view(request, register):
    register = register_get_for_manager(user=request.user, slug=register)
    form = _grant_form(request, register, request.POST)
    if not form.is_valid():
        return _render_memberships(request, register, form, status=400)
    data = form.cleaned_data
    try:
        membership_grant(
            actor=request.user,
            user=data["username"],
            register=register,
            role=data["role"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            reason=data["reason"],
        )
    except PermissionDenied as error:
        form.add_error(None, str(error) or _("You may not grant this role in this register."))
        return _render_memberships(request, register, form, status=403)
    except ValidationError as error:
        form.add_error(None, error)
        return _render_memberships(request, register, form, status=400)
    messages.success(request, _("Access granted."))
    return redirect("registers:membership-list", register=register.slug)


@require_POST
def membership_end_view(request, register, code):
    register = register_get_for_manager(user=request.user, slug=register)
    membership = get_object_or_404(register.memberships, code=code)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        # An empty reason gets the plain request; a refused one (an identity code, say) its own message.
        refused = form.data.get("reason", "").strip() and form.errors.get("reason")
        messages.error(request, " ".join(refused) if refused else _("Give a reason for ending the access."))
        return redirect("registers:membership-list", register=register.slug)
    try:
        membership_end(actor=request.user, membership=membership, reason=form.cleaned_data["reason"])
    except PermissionDenied as error:
        messages.error(request, str(error))
        return _render_memberships(request, register, _grant_form(request, register), status=403)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Access ended."))
    return redirect("registers:membership-list", register=register.slug)
