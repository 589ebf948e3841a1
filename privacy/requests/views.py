"""Views of data-subject requests: the public form and links, and the staff screens.

Public views carry `@login_not_required` and reach a request only through a
signed token; staff views fetch through `selectors` (404 for other registers,
403 without request rights) and change through `services`/`workflow`.
"""

import logging
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from registers import roles
from registers.access_log import client_address
from registers.models import Organisation, Register
from registers.selectors import register_list

from . import forms, queue_pages, selectors, services, tokens, workflow
from .access_entries import access_entries_create
from .models import DataSubjectRequest
from .ratelimit import rate_limit_exceeded
from .view_helpers import CONTENT_TYPES, form_data, package_file_response, request_action, show_errors

State = DataSubjectRequest.State
logger = logging.getLogger("privacy.views")  # the name operators filter on
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


# Public views -----------------------------------------------------------------


@login_not_required
def request_start(request):
    organisations = selectors.public_organisation_list()
    register_slug = request.GET.get("register", "")
    # A slug is plain ASCII: anything else names no register (and a NUL byte
    # would make PostgreSQL refuse the query).
    if SLUG.fullmatch(register_slug):
        register = Register.objects.filter(slug=register_slug).select_related("organisation").first()
        if register is not None:
            return redirect(f"{_form_url(register.organisation)}?register={register.slug}")
    if len(organisations) == 1:
        return redirect(_form_url(organisations[0]))
    groups = [(org, selectors.public_register_list(organisation=org)) for org in organisations]
    return render(request, "privacy/request_start.html", {"groups": groups})


def _form_url(organisation: Organisation) -> str:
    return reverse("privacy:request-form", kwargs={"organisation": organisation.code})


@login_not_required
@require_http_methods(["GET", "POST"])
def request_form(request, organisation):
    organisation = get_object_or_404(selectors.public_organisation_list(), code=organisation)
    registers = selectors.public_register_list(organisation=organisation)
    initial = {"registers": [request.GET["register"]]} if request.GET.get("register") else {}
    form = forms.PublicRequestForm(request.POST or None, request.FILES or None, registers=registers, initial=initial)
    context = {"form": form, "organisation": organisation, "registers": registers}
    if request.method == "POST" and form.is_valid():
        if form.is_robot:
            # Stored nothing, answered like everyone: a robot learns nothing from the answer.
            return redirect("privacy:request-sent")
        try:
            if rate_limit_exceeded(scope="ip", value=client_address(request) or "unknown"):
                raise services.RateLimitedError
            services.request_submit(
                organisation=organisation,
                registers=list(form.cleaned_data["registers"]),
                all_registers=form.cleaned_data["all_registers"],
                data=form.request_data(),
            )
        except services.EmailRateLimitedError:
            # Answered like any other submission: a different answer would
            # tell a stranger that this address has been sending requests.
            logger.info("A public request was not stored: too many requests for one e-mail address.")
        except services.RateLimitedError:
            # The form comes back filled in: nothing the person typed is lost.
            context["rate_limited"] = services.ERROR_RATE_LIMITED
            return render(request, "privacy/request_form.html", context, status=429)
        # One answer for a new request, a repeat and a refused one, and no
        # link: the links reach the person only through their e-mail.
        return redirect("privacy:request-sent")
    return render(request, "privacy/request_form.html", context)


@login_not_required
def request_sent(request):
    return render(
        request,
        "privacy/request_sent.html",
        {"confirm_hours": int(tokens.CONFIRM_MAX_AGE.total_seconds() // 3600)},
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def request_confirm(request, token):
    try:
        dsr = selectors.request_by_confirm_token(token=token)
    except tokens.TokenExpiredError:
        return render(request, "privacy/request_confirm_invalid.html", {"expired": True}, status=410)
    except tokens.TokenInvalidError:
        return render(request, "privacy/request_confirm_invalid.html", {"expired": False}, status=404)
    if request.method == "POST":
        dsr = services.request_confirm_email(request=dsr)
        if dsr.state == State.DUPLICATE and dsr.duplicate_of_id:
            messages.info(
                request,
                _(
                    "Thank you: your e-mail address is confirmed. You had already sent this request: it is handled "
                    "as request %(reference)s, whose link we have sent to your e-mail address."
                )
                % {"reference": dsr.duplicate_of.reference},
            )
        else:
            messages.success(
                request, _("Thank you: your e-mail address is confirmed and your request is in the queue.")
            )
        # The status link of this request was in the same letter as the confirmation link.
        return redirect("privacy:status", token=tokens.status_token_make(dsr))
    return render(request, "privacy/request_confirm.html", {"dsr": dsr})


@login_not_required
def request_status(request, token):
    try:
        dsr = selectors.request_by_status_token(token=token)
    except selectors.StatusLinkExpiredError:
        return render(
            request, "privacy/request_status_expired.html", {"days": tokens.STATUS_LINK_DAYS_AFTER_END}, status=410
        )
    return render(
        request,
        "privacy/request_status.html",
        {
            "dsr": dsr,
            "token": token,
            "status_url": request.build_absolute_uri(),
            "can_withdraw": workflow.MACHINE.allows(dsr.state, State.WITHDRAWN),
            "link_days": tokens.STATUS_LINK_DAYS_AFTER_END,
            "link_ends_at": selectors.status_link_ends_at(dsr),
        },
    )


@login_not_required
@require_POST
def request_withdraw(request, token):
    dsr = selectors.request_by_status_token(token=token)
    try:
        services.request_withdraw_by_requester(request=dsr)
    except ValidationError as error:
        show_errors(request, error)
    else:
        messages.success(request, _("Your request has been withdrawn."))
    return redirect("privacy:status", token=token)


@login_not_required
def package_download(request, token):
    package = selectors.package_by_download_token(token=token)
    expired = package.expires_at is None or package.expires_at <= timezone.now()
    return render(
        request,
        "privacy/package_download.html",
        {"package": package, "dsr": package.request, "token": token, "expired": expired},
        status=410 if expired else 200,
    )


@login_not_required
def package_file(request, token, fmt):
    if fmt not in CONTENT_TYPES:
        raise Http404
    package = selectors.package_by_download_token(token=token)
    try:
        services.package_download_record(package=package, fmt=fmt, http_request=request, by_requester=True)
    except PermissionDenied:
        return render(
            request,
            "privacy/package_download.html",
            {"package": package, "dsr": package.request, "token": token, "expired": True},
            status=410,
        )
    return package_file_response(package, fmt)


# Staff views ------------------------------------------------------------------


def queue(request):
    registers = list(selectors.request_register_list(user=request.user))
    form = forms.QueueFilterForm(request.GET, registers=registers)
    tab, register, kind = form.filters()
    show_closed = tab == forms.QueueFilterForm.CLOSED
    show_unconfirmed = tab == forms.QueueFilterForm.UNCONFIRMED
    requests = selectors.request_queue(
        user=request.user, closed=show_closed, unconfirmed=show_unconfirmed, register=register, kind=kind
    )
    page = queue_pages.QueuePage(requests, request.GET.get("page"))
    counts = selectors.request_queue_counts(user=request.user, cap=queue_pages.COUNT_CAP, register=register, kind=kind)
    review_waiting, review_more = [], False
    if tab == forms.QueueFilterForm.OPEN and page.number == 1:
        # Answers waiting for approval come first, whatever their deadline: at most a page of them.
        review_waiting = list(requests.filter(state=State.REVIEW)[: queue_pages.PAGE_SIZE + 1])
        review_more = len(review_waiting) > queue_pages.PAGE_SIZE
        review_waiting = review_waiting[: queue_pages.PAGE_SIZE]
    return render(
        request,
        "privacy/request_queue.html",
        {
            "form": form,
            "page": page,
            "rows": queue_pages.queue_rows(page.object_list),
            "show_closed": show_closed,
            "show_unconfirmed": show_unconfirmed,
            "counts": queue_pages.tab_counts(counts),
            "review_rows": queue_pages.queue_rows(review_waiting),
            "review_more": review_more,
            "can_intake": bool(selectors.request_register_ids(user=request.user, perms=(roles.HANDLE_REQUESTS,))),
        },
    )


@require_http_methods(["GET", "POST"])
def request_new(request):
    registers = register_list(user=request.user, perm=roles.HANDLE_REQUESTS).filter(parts__isnull=True)
    if not registers.exists():
        raise PermissionDenied(selectors.ERROR_NO_REQUEST_RIGHTS)
    form = forms.StaffIntakeForm(request.POST or None, request.FILES or None, registers=registers)
    if request.method == "POST" and form.is_valid():
        try:
            dsr = services.request_intake(
                actor=request.user, registers=list(form.cleaned_data["registers"]), data=form.request_data()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Request %(reference)s recorded.") % {"reference": dsr.reference})
            return redirect("privacy:request-detail", code=dsr.code)
    return render(request, "privacy/request_new.html", {"form": form})


def request_detail(request, code):
    dsr = selectors.request_get_for_user(user=request.user, code=code)
    parts = list(dsr.register_parts.select_related("register", "checked_by"))
    access_entries_create(
        request, dsr, registers=[p.register_id for p in parts], extra={"purpose": "data_subject_request"}
    )
    checkable = {p.pk for p in selectors.request_registers_for_checking(request=dsr, user=request.user)}
    # The whole answer, and the steps of the whole request, only for someone
    # with the right in every register; others see their registers' part.
    whole = selectors.actor_holds(actor=request.user, request=dsr, perm=roles.HANDLE_REQUESTS, every=True)
    package = dsr.packages.order_by("-generated_at").first() if whole else None
    context = {
        "dsr": dsr,
        "parts": parts,
        "checkable": checkable,
        "events": dsr.events.select_related("actor"),
        "matches": selectors.request_match_list(request=dsr, user=request.user),
        "package": package,
        "redactions": package.redactions.all() if package else [],
        "moves": sorted(workflow.SIMPLE_MOVES & workflow.MACHINE.targets(dsr.state)),
        "forms_offered": workflow.MACHINE.offered(dsr.state, workflow.FORM_MOVES),
        "can_handle": whole,
        "can_approve": selectors.actor_holds(actor=request.user, request=dsr, perm=roles.APPROVE_REQUESTS, every=True),
        "verify_form": forms.VerifyIdentityForm(),
        "message_form": forms.MessageForm(),
        "reason_form": forms.ReasonForm(),
        "duplicate_form": forms.DuplicateForm(),
        "approve_form": forms.ApproveForm(),
        "State": State,
    }
    return render(request, "privacy/request_detail.html", context)


def _perm(perm):
    """Wrap a POST action of a handler on the request's page."""
    return request_action(perm, url_name="privacy:request-detail")


@_perm(roles.HANDLE_REQUESTS)
def request_verify(request, dsr):
    data = form_data(forms.VerifyIdentityForm, request)
    services.request_verify_identity(request=dsr, actor=request.user, method=data["method"], note=data["note"])
    messages.success(request, _("Identity recorded; the request is in triage."))


@_perm(roles.HANDLE_REQUESTS)
def request_ask(request, dsr):
    data = form_data(forms.MessageForm, request)
    letter = services.request_ask_for_information(request=dsr, actor=request.user, message=data["message"])
    if letter is None:
        messages.warning(request, _("The requester has no e-mail address: send the question by post."))
    else:
        messages.success(request, _("The question has been sent to the requester."))


@_perm(roles.HANDLE_REQUESTS)
def request_extend(request, dsr):
    data = form_data(forms.ReasonForm, request)
    workflow.request_extend(request=dsr, actor=request.user, reason=data["reason"])
    if not dsr.requester_email:
        messages.warning(request, _("The requester has no e-mail address: send the notice of extension by post."))
    messages.success(request, _("The deadline has been extended by two months."))


@_perm(roles.HANDLE_REQUESTS)
def request_cannot_identify(request, dsr):
    data = form_data(forms.ReasonForm, request)
    services.request_cannot_identify(request=dsr, actor=request.user, reason=data["reason"])
    messages.success(request, _("The requester has been told that they could not be identified."))


@_perm(roles.HANDLE_REQUESTS)
def request_duplicate(request, dsr):
    data = form_data(forms.DuplicateForm, request)
    services.request_mark_duplicate(request=dsr, actor=request.user, reference=data["reference"])
    messages.success(request, _("The request was closed as a duplicate."))


@_perm(roles.HANDLE_REQUESTS)
def request_prepare(request, dsr):
    services.request_prepare(request=dsr, actor=request.user)
    messages.success(request, _("The answer is ready and waits for approval."))


@_perm(roles.APPROVE_REQUESTS)
def request_approve(request, dsr):
    data = form_data(forms.ApproveForm, request)
    services.request_approve(request=dsr, actor=request.user, decision_text=data["decision_text"])
    messages.success(request, _("The answer has been approved and released."))


@require_POST
def request_move(request, code):
    dsr = selectors.request_get_for_user_rw(user=request.user, code=code, perm=roles.HANDLE_REQUESTS)
    form = forms.TransitionForm(request.POST)
    if not form.is_valid() or form.cleaned_data["to"] not in workflow.SIMPLE_MOVES:
        messages.error(request, _("Choose a valid step."))
        return redirect("privacy:request-detail", code=dsr.code)
    try:
        workflow.request_transition(
            request=dsr, to=form.cleaned_data["to"], actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        show_errors(request, error)
    return redirect("privacy:request-detail", code=dsr.code)


@require_http_methods(["GET", "POST"])
def request_search(request, code):
    # Each handler checks the registers they handle, so one of them is enough here.
    dsr = selectors.request_get_for_user(user=request.user, code=code)
    # The one answer to "which of the request's registers may this user check", used by all below.
    parts = list(selectors.request_registers_for_checking(request=dsr, user=request.user))
    if not parts:
        raise PermissionDenied(selectors.ERROR_NO_REQUEST_RIGHTS)
    if request.method == "POST":
        form = forms.MatchConfirmForm(request.POST)
        if form.is_valid():
            part = next((p for p in parts if p.register.slug == form.cleaned_data["register"]), None)
            if part is None:
                raise Http404
            try:
                services.subject_matches_confirm(
                    request=dsr, actor=request.user, register=part.register, records=form.cleaned_data["record"]
                )
            except ValidationError as error:
                show_errors(request, error)
            else:
                messages.success(request, _("Register %(register)s checked.") % {"register": part.register.name})
        else:
            messages.error(request, _("Choose records of the register."))
        return redirect(f"{request.path}?{request.GET.urlencode()}")
    initial = {"name": dsr.requester_name, "email": dsr.requester_email, "phone": dsr.requester_phone}
    search = forms.SubjectSearchForm(request.GET if "name" in request.GET else None, initial=initial)
    query = search.cleaned_data if search.is_bound and search.is_valid() else initial
    candidates = selectors.subject_candidates(request=dsr, user=request.user, query=query, parts=parts)
    matches = list(dsr.matches.select_related("customer", "contact_person__customer", "message"))
    kinds = (("customer", "customers"), ("contact_person", "contact_persons"), ("message", "messages"))
    matched = {
        f"{kind}:{getattr(match, kind).code}"
        for match in matches
        for kind, _key in kinds
        if getattr(match, f"{kind}_id")
    }
    # Records confirmed earlier stay on the list whatever the search, so that
    # confirming a register again never drops them unseen.
    for match in matches:
        found = candidates.get(match.register_id)
        if found is None:
            continue
        for kind, key in kinds:
            record = getattr(match, kind)
            if record is not None and record.pk not in {r.pk for r in found[key]}:
                found[key].append(record)
    for found in candidates.values():
        for kind, key in kinds:
            for row in found[key]:
                row.is_matched = f"{kind}:{row.code}" in matched
    groups = [(part, candidates.get(part.register_id, {})) for part in parts]
    access_entries_create(request, dsr, registers=[p.register_id for p in parts], extra={"purpose": "subject_search"})
    return render(
        request,
        "privacy/request_search.html",
        {
            "dsr": dsr,
            "search": search,
            "groups": groups,
            "matched": matched,
            "editable": dsr.state == State.IN_PROGRESS,
        },
    )


def package_file_staff(request, code, fmt):
    if fmt not in CONTENT_TYPES:
        raise Http404
    dsr = selectors.request_get_for_user_rw(user=request.user, code=code, perm=roles.HANDLE_REQUESTS)
    package = dsr.packages.order_by("-generated_at").first()
    if package is None:
        raise Http404
    services.package_download_record(package=package, fmt=fmt, http_request=request, by_requester=False)
    return package_file_response(package, fmt, inline=fmt == "html")


def mandate_file(request, code):
    dsr = selectors.request_get_for_user_rw(user=request.user, code=code, perm=roles.HANDLE_REQUESTS)
    if not dsr.mandate:
        raise Http404
    services.mandate_view_record(request=dsr, http_request=request)
    response = FileResponse(dsr.mandate.open("rb"), as_attachment=True, filename=dsr.mandate.name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "no-store"
    return response


def figures(request):
    rows = selectors.request_monthly_figures(user=request.user)
    return render(request, "privacy/request_figures.html", {"rows": rows})
