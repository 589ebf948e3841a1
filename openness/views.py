"""Document requests: the public form, and the handlers' queue, intake and request page.

Public views carry `@login_not_required` and read nothing back; staff views read through `selectors` (404 outside
the user's authority) and change through `services`.
"""

import datetime
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import exports
from crm.models import Customer
from privacy.requests import selectors as request_selectors
from privacy.requests.ratelimit import rate_limit_exceeded
from registers.access_log import client_address

from . import disclosure, forms, letters, selectors, services
from .models import DocumentRequest
from .workflow import MACHINE

State = DocumentRequest.State


# Public ------------------------------------------------------------------------------------------------------


@login_not_required
@require_GET
def request_start(request):
    organisations = request_selectors.public_organisation_list()
    if len(organisations) == 1:
        return redirect("openness:request-form", organisation=organisations[0].code)
    return render(request, "openness/request_start.html", {"organisations": organisations})


@login_not_required
@require_http_methods(["GET", "POST"])
def request_form(request, organisation):
    organisation = get_object_or_404(request_selectors.public_organisation_list(), code=organisation)
    registers = request_selectors.public_register_list(organisation=organisation)
    initial = {"language": (request.LANGUAGE_CODE or "fi")[:2]}
    form = forms.DocumentRequestForm(request.POST or None, registers=registers, initial=initial)
    context = {"form": form, "organisation": organisation}
    if request.method == "POST" and form.is_valid():
        if rate_limit_exceeded(scope="ip", value=client_address(request) or "unknown"):
            context["rate_limited"] = True
            return render(request, "openness/request_form.html", context, status=429)
        try:
            document_request = services.document_request_submit(
                organisation=organisation, registers=list(form.cleaned_data["registers"]), data=form.request_data()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your request is received: diary number %(number)s. The answer comes by %(date)s at the latest.")
                % {
                    "number": document_request.diary_number,
                    "date": date_format(timezone.localtime(document_request.due_at).date(), "SHORT_DATE_FORMAT"),
                },
            )
            return redirect("openness:request-sent")
    return render(request, "openness/request_form.html", context)


@login_not_required
@require_GET
def request_sent(request):
    return render(request, "openness/request_sent.html")


# Staff -------------------------------------------------------------------------------------------------------


@require_GET
def queue(request):
    closed = request.GET.get("tab") == "closed"
    requests = selectors.document_request_list(user=request.user)
    if closed:
        requests = requests.exclude(state__in=DocumentRequest.OPEN_STATES).order_by("-received_at")
    else:
        requests = requests.filter(state__in=DocumentRequest.OPEN_STATES).order_by("due_at", "pk")
    return render(request, "openness/queue.html", {"requests": requests[:200], "closed": closed})


@require_GET
def figures(request):
    outcomes = [(f"outcome_{value}", label) for value, label in DocumentRequest.Outcome.choices]
    rows = selectors.document_request_monthly_figures(user=request.user)
    for row in rows:
        row["outcome_cells"] = [row[name] for name, _label in outcomes]
    context = {"rows": rows, "outcomes": outcomes, "minimum": settings.STATISTICS_MIN_CELL}
    return render(request, "openness/figures.html", context)


@require_http_methods(["GET", "POST"])
def intake(request):
    organisations = selectors.intake_organisations(user=request.user)
    organisation = organisations.filter(code=_uuid(request.POST.get("organisation") or request.GET.get("organisation")))
    organisation = organisation.first() or organisations.first()
    if organisation is None:
        return render(request, "openness/intake.html", {"organisations": organisations}, status=403)
    registers = request_selectors.public_register_list(organisation=organisation)
    initial = {"received_on": timezone.localdate(), "language": (request.LANGUAGE_CODE or "fi")[:2]}
    form = forms.IntakeForm(request.POST or None, registers=registers, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.request_data()
        received_on = form.cleaned_data["received_on"]
        if received_on != timezone.localdate():
            # A day in the past: its working morning (the clock counts days, not hours).
            data["received_at"] = timezone.make_aware(datetime.datetime.combine(received_on, datetime.time(9, 0)))
        try:
            document_request = services.document_request_intake(
                actor=request.user,
                organisation=organisation,
                registers=list(form.cleaned_data["registers"]),
                data=data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("openness:detail", code=document_request.code)
    context = {"form": form, "organisations": organisations, "organisation": organisation}
    return render(request, "openness/intake.html", context)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# The request page's steps: (form, service, the form's values as the service's arguments).
ACTIONS = {
    "take-up": (None, services.document_request_take_up, State.IN_REVIEW),
    "extend": (forms.ExtendForm, services.document_request_extend, None),
    "answer": (forms.AnswerForm, services.document_request_answer, State.ANSWERED),
    "refuse": (forms.RefuseForm, services.document_request_refuse, State.AWAITING_CHOICE),
    "choice": (forms.ChoiceForm, services.document_request_choice_record, State.DECISION_PENDING),
    "decide": (forms.DecideForm, services.document_request_decide, State.ANSWERED),
    "appeal": (forms.NoteForm, services.document_request_appeal_record, None),
    "transfer": (forms.TransferForm, services.document_request_transfer, State.TRANSFERRED),
    "withdraw": (forms.NoteForm, services.document_request_withdraw, State.WITHDRAWN),
    "close": (None, services.document_request_close, State.CLOSED),
}


def _offered(document_request: DocumentRequest, user) -> dict:
    offered = {}
    for name, (form_class, _service, target) in ACTIONS.items():
        if target is not None and not MACHINE.allows(document_request.state, target):
            continue
        if name == "choice" and document_request.state != State.AWAITING_CHOICE:
            continue
        if name == "decide" and (
            document_request.state != State.DECISION_PENDING
            or not selectors.user_may_decide(user=user, request=document_request)
        ):
            continue
        if name == "extend" and (
            document_request.extended_at or document_request.state not in DocumentRequest.CLOCK_STATES
        ):
            continue
        if name == "appeal" and (document_request.decided_at is None or document_request.appealed):
            continue
        if name == "close" and document_request.state != State.ANSWERED:
            continue
        offered[name] = form_class() if form_class else None
    return offered


def _disclosures(document_request: DocumentRequest, user) -> list[dict]:
    """Each personal data file the request names: the purpose check's answer and, where it passes, the form."""
    handled = selectors.handled_register_ids(user=user)
    open_for_export = document_request.state in (State.IN_REVIEW, State.DECISION_PENDING)
    parts = []
    for register in document_request.registers.all():
        problems = disclosure.purpose_check(request=document_request, register=register)
        form = None
        if not problems and open_for_export and register.pk in handled:
            form = forms.DisclosureForm(columns=disclosure.disclosable_columns(register))
        left_out = (
            Customer.objects.filter(register=register).count() - disclosure.disclosable_customers(register).count()
        )
        parts.append({"register": register, "problems": problems, "form": form, "left_out": left_out})
    return parts


@require_GET
def detail(request, code):
    document_request = selectors.document_request_get_for_user(user=request.user, code=code)
    context = {
        "dsr": document_request,
        "actions": _offered(document_request, request.user),
        "events": document_request.events.select_related("actor").order_by("at", "id"),
        "registers": document_request.registers.all(),
        "disclosures": _disclosures(document_request, request.user),
        "letters": letters.letter_kinds(document_request),
    }
    return render(request, "openness/detail.html", context)


@require_GET
def letter(request, code, kind):
    document_request = selectors.document_request_get_for_user(user=request.user, code=code)
    if kind not in letters.letter_kinds(document_request):
        raise Http404
    response = HttpResponse(letters.letter_pdf(document_request, kind), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document_request.diary_number}-{kind}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def disclose(request, code, register):
    document_request = selectors.document_request_get_for_user(user=request.user, code=code)
    register = get_object_or_404(document_request.registers.all(), slug=register)
    form = forms.DisclosureForm(request.POST, columns=disclosure.disclosable_columns(register))
    if not form.is_valid():
        messages.error(request, _("Choose the data to give."))
        return redirect("openness:detail", code=code)
    try:
        rows = disclosure.disclosure_export(
            actor=request.user,
            request=document_request,
            register=register,
            column_names=form.cleaned_data["columns"],
            http_request=request,
        )
    except PermissionDenied:
        raise
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("openness:detail", code=code)
    return exports.csv_response(rows, filename=f"{document_request.diary_number}-{register.slug}.csv")


@require_POST
def action(request, code, name):
    document_request = selectors.document_request_get_for_user(user=request.user, code=code)
    if name not in ACTIONS:
        return redirect("openness:detail", code=code)
    form_class, service, _target = ACTIONS[name]
    values = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("openness:detail", code=code)
        values = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        if name == "extend":
            values = {"reason": form.cleaned_data["reason"], "note": form.cleaned_data["note"]}
    try:
        service(actor=request.user, request=document_request, **values)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect("openness:detail", code=code)
