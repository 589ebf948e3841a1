"""Two-factor authentication (TOTP with recovery codes) for the powerful roles.

Register owners, main users and everybody who can open the Django admin must
confirm a one-time code after the password; until they do, the middleware
lets them reach nothing but the two-factor pages and sign-out.
"""

import base64
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from .recovery_codes import recovery_codes_create
from .selectors import request_gate_facts
from .totp import TOTPDevice

ERROR_WRONG_CODE = _("The code is not valid. Check the time on your device and try again.")
ERROR_AUTHENTICATOR_UNREADABLE = _(
    "Your authenticator cannot be checked right now. Sign in with one of your recovery codes, "
    "or ask the main user for help."
)
ALWAYS_ALLOWED = ("two-factor", "logout", "set_language", "ops:healthz", "ops:readyz", "ops:metrics")


def user_requires_two_factor(user) -> bool:
    """Tell whether the user must pass a second factor: owners, main users and admin users."""
    if not user.is_authenticated:
        return False
    facts = request_gate_facts(user=user)
    return user.is_staff or facts["main_user"] or facts["owner"]


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.allowed_paths: tuple[str, ...] | None = None

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and user_requires_two_factor(user):
            if self.allowed_paths is None:
                self.allowed_paths = tuple(reverse(name) for name in ALWAYS_ALLOWED)
            if request.path not in self.allowed_paths and not request.path.startswith("/static/"):
                return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The six-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    # Only a path: redirect() would take any other word for a URL pattern name and fail on it.
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if allowed and target.startswith("/"):
        return target
    return reverse("home")


def _qr_svg(device: TOTPDevice) -> str:
    # segno writes the QR code as SVG markup built only from the device's own
    # provisioning URI; no user-entered text reaches it.
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4))  # noqa: S308  # nosec: B308, B703


@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Verify a code, or set up an authenticator on first use."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    form = TokenForm(request.POST or None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            verified = match_token(user, form.cleaned_data["token"].replace(" ", ""))
            if verified is not None:
                otp_login(request, verified)
                return redirect(_next_url(request))
            # A secret the server cannot decrypt is its operators' fault: say so rather than blame the code.
            form.add_error("token", ERROR_WRONG_CODE if device.key_readable else ERROR_AUTHENTICATOR_UNREADABLE)
        return render(request, "registers/two_factor_verify.html", {"form": form, "next": _next_url(request)})

    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if pending is None or not pending.key_readable:
        # An unconfirmed secret that the configured keys no longer open was never in use: start afresh.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        pending = TOTPDevice.objects.create(user=user, confirmed=False, name="authenticator")
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["token"].replace(" ", "")):
            pending.confirmed = True
            pending.save()
            codes = recovery_codes_create(user=user)
            otp_login(request, pending)
            messages.success(request, _("Two-factor authentication is now on."))
            context = {"codes": codes, "next": _next_url(request)}
            return render(request, "registers/two_factor_recovery_codes.html", context)
        form.add_error("token", ERROR_WRONG_CODE)
    secret = base64.b32encode(pending.bin_key).decode()
    context = {"form": form, "qr_svg": _qr_svg(pending), "secret": secret, "next": _next_url(request)}
    return render(request, "registers/two_factor_setup.html", context)
