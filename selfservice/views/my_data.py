"""The data subject's own pages: sign-in through the identity broker, "my data", requests and answers.

No page needs JavaScript; every change is a POST with its CSRF token. A page that needs the person and finds no
signed-in person (never signed in, signed out, idle for 15 minutes) shows the sign-in page instead.
"""

import functools
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from privacy.requests import selectors as request_selectors
from privacy.requests import services as request_services
from privacy.requests.view_helpers import package_file_response

from .. import forms, oidc, selectors, services
from ..session import subject_session, subject_session_end, subject_session_start

logger = logging.getLogger("selfservice")
NEXT_KEY = "selfservice_next"
FORMATS = ("pdf", "html", "json")


def _page(request, template: str, context: dict | None = None, *, status: int = 200):
    """Render a page of the person's. Its forms (sign-in, sign-out, a fresh sign-in for an answer) are answered with
    a redirect to the identity provider, and a form's redirect must be allowed by the page's own form-action."""
    response = render(request, template, context, status=status)
    if oidc.configured():
        response._csp_update = {"form-action": [oidc.provider_origin()]}
    return response


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if settings.SITE_URL else path


def _safe_next(request, value: str) -> str:
    if value.startswith("/my-data/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return reverse("selfservice:my-data")


def subject_required(view):
    """The signed-in person as `request.subject`; the sign-in page for anyone else."""

    @login_not_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request.subject = subject_session(request)
        if request.subject is None:
            return _sign_in_page(request, next_url=request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _sign_in_page(request, *, next_url: str = "", status: int = 200):
    context = {"configured": oidc.configured(), "next": _safe_next(request, next_url)}
    return _page(request, "selfservice/sign_in.html", context, status=status)


def _to_provider(request, *, next_url: str, fresh: bool = False):
    """Send the person to the identity provider (a fresh authentication when `fresh`)."""
    request.session[NEXT_KEY] = _safe_next(request, next_url)
    extra = {"ui_locales": (get_language() or "fi")[:2]}
    if settings.SUBJECT_OIDC_ACR_VALUES:
        extra["acr_values"] = settings.SUBJECT_OIDC_ACR_VALUES
    if fresh:
        extra.update(prompt="login", max_age=0)
    try:
        return oidc.provider().authorize_redirect(request, _absolute(reverse("selfservice:callback")), **extra)
    except oidc.SIGN_IN_ERRORS:
        logger.warning("The identity provider could not be reached to start a sign-in.", exc_info=True)
        return _page(request, "selfservice/sign_in_failed.html", {"unavailable": True}, status=503)


@login_not_required
@require_POST
def sign_in(request):
    if not oidc.configured():
        return _sign_in_page(request, status=404)
    return _to_provider(request, next_url=request.POST.get("next", ""))


@login_not_required
@require_GET
def callback(request):
    if not oidc.configured():
        return _sign_in_page(request, status=404)
    try:
        token = oidc.provider().authorize_access_token(request)
        identification = oidc.identification_from(token, now=int(time.time()))
    except oidc.SIGN_IN_ERRORS:
        # A refused, expired or tampered token, a state that is not this browser's, or a provider that failed.
        logger.warning("A sign-in to the my data pages failed.", exc_info=True)
        return _page(request, "selfservice/sign_in_failed.html", {"unavailable": False}, status=400)
    if not identification.strong:
        return _page(
            request,
            "selfservice/sign_in_failed.html",
            {"weak": True, "assurance": identification.assurance},
            status=403,
        )
    try:
        identity = services.subject_sign_in_record(identification=identification)
    except ValidationError:
        logger.warning("A sign-in's attributes could not be kept.", exc_info=True)
        return _page(request, "selfservice/sign_in_failed.html", {"unavailable": False}, status=400)
    next_url = request.session.get(NEXT_KEY, "")
    subject_session_start(
        request,
        identity=identity,
        assurance=identification.assurance,
        authenticated_at=identification.authenticated_at,
        id_token=identification.id_token,
    )
    return redirect(_safe_next(request, next_url))


@login_not_required
@require_POST
def sign_out(request):
    id_token = subject_session_end(request)
    signed_out = _absolute(reverse("selfservice:signed-out"))
    if id_token and oidc.configured():
        try:
            if oidc.provider().load_server_metadata().get("end_session_endpoint"):
                return oidc.provider().logout_redirect(
                    request, post_logout_redirect_uri=signed_out, id_token_hint=id_token
                )
        except oidc.SIGN_IN_ERRORS:
            logger.warning("The identity provider's session could not be ended.", exc_info=True)
    return HttpResponseRedirect(signed_out)


@login_not_required
@require_GET
def signed_out(request):
    return _page(request, "selfservice/signed_out.html")


@subject_required
@require_GET
def my_data(request):
    identity = request.subject.identity
    context = {
        "subject": request.subject,
        "identity": identity,
        "parts": selectors.my_data(identity=identity),
        "consents": selectors.consents_with_withdrawal_notices(identity=identity),
        "objection_notices": selectors.objection_notices(identity=identity),
        "pending_links": selectors.pending_link_count(identity=identity),
        "requests": selectors.my_requests(identity=identity),
        "objecting": all(customer.marketing_objection for customer in selectors.linked_customers(identity=identity)),
    }
    return _page(request, "selfservice/my_data.html", context)


@subject_required
@require_POST
def marketing_objection(request):
    services.marketing_objection_from_my_data(
        identity=request.subject.identity,
        assurance=request.subject.assurance,
        notice_codes=request.POST.getlist("notice"),
        language=get_language(),
    )
    messages.success(request, _("You object to direct marketing: it has stopped in every register."))
    return redirect("selfservice:my-data")


@subject_required
@require_POST
def consent_withdraw(request, code):
    consent = selectors.consent_get(identity=request.subject.identity, code=code)
    services.consent_withdraw_from_my_data(
        identity=request.subject.identity,
        consent=consent,
        notice_code=request.POST.get("notice", ""),
        language=get_language(),
    )
    messages.success(request, _("Your consent is withdrawn."))
    return redirect("selfservice:my-data")


@subject_required
@require_GET
def request_start(request):
    organisations = request_selectors.public_organisation_list()
    return _page(request, "selfservice/request_start.html", {"organisations": organisations})


@subject_required
@require_http_methods(["GET", "POST"])
def request_new(request, organisation):
    organisation = get_object_or_404(request_selectors.public_organisation_list(), code=organisation)
    registers = request_selectors.public_register_list(organisation=organisation)
    form = forms.IdentifiedRequestForm(request.POST or None, registers=registers)
    if request.method == "POST" and form.is_valid():
        dsr = services.identified_request_file(
            identity=request.subject.identity,
            assurance=request.subject.assurance,
            organisation=organisation,
            registers=list(form.cleaned_data["registers"]),
            all_registers=form.cleaned_data["all_registers"],
            data=form.request_data(),
        )
        messages.success(request, _("Your request is received. You were identified, so its handling starts at once."))
        return redirect("selfservice:request", code=dsr.code)
    return _page(request, "selfservice/request_new.html", {"form": form, "organisation": organisation})


@subject_required
@require_GET
def request_detail(request, code):
    dsr = selectors.my_request_get(identity=request.subject.identity, code=code)
    context = {"dsr": dsr, "answer": selectors.downloadable_answer(request=dsr), "subject": request.subject}
    return _page(request, "selfservice/request_detail.html", context)


@subject_required
@require_POST
def answer_open(request, code):
    """The answer's files open only after a fresh sign-in, through a link that works for a few minutes."""
    dsr = selectors.my_request_get(identity=request.subject.identity, code=code)
    package = selectors.downloadable_answer(request=dsr)
    if package is None:
        raise PermissionDenied(services.ERROR_NO_ANSWER)
    if not request.subject.fresh:
        return _to_provider(request, next_url=reverse("selfservice:request", kwargs={"code": dsr.code}), fresh=True)
    token = services.answer_link_make(identity=request.subject.identity, package=package)
    return _page(
        request,
        "selfservice/answer_links.html",
        {"dsr": dsr, "token": token, "formats": FORMATS, "minutes": services.ANSWER_LINK_SECONDS // 60},
    )


@subject_required
@require_GET
def answer_file(request, token, fmt):
    if fmt not in FORMATS:
        return _page(request, "selfservice/answer_gone.html", status=404)
    try:
        package = services.answer_by_link(identity=request.subject.identity, token=token)
        request_services.package_download_record(package=package, fmt=fmt, http_request=request, by_requester=True)
    except PermissionDenied:
        return _page(request, "selfservice/answer_gone.html", status=410)
    return package_file_response(package, fmt)
