"""Screens of the rights of arts. 16-21: the request's rights page, the disclosure ledger, consents, public links.

Staff views fetch through `selectors` / `selectors_rights` (404 for another register's staff, 403 without request
rights) and change through one service each; every change is a POST that redirects back with a message.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import selectors as crm_selectors
from crm.models import Customer
from privacy.requests import selectors as request_selectors
from privacy.requests import services as request_services
from privacy.requests.models import DataSubjectRequest
from privacy.requests.view_helpers import STORED_LETTER_CSP, form_data, request_action, show_errors
from registers import roles
from registers.access_log import log_access
from registers.selectors import register_get_for_owner, register_get_for_user, user_can
from registers.services import is_main_user

from . import (
    consent,
    disclosures,
    erasure,
    notices,
    objection_weighing,
    rectification,
    refusals,
    restriction_lift,
    selectors,
    services,
)
from .forms import (
    ConsentGiveForm,
    ConsentNoticeForm,
    ConsentWithdrawForm,
    DecideForm,
    DisclosureForm,
    MentionDecisionForm,
    NotificationResolveForm,
    ObjectionWeighingForm,
    RecordForm,
    RectificationItemForm,
    RectificationRefuseForm,
    RefusalForm,
    RestrictionLiftCancelForm,
    RestrictionLiftForm,
)
from .guards import portability_ineligible_registers, weighing_decided, weighing_pending
from .models import ConsentNotice, ConsentRecord

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind


def _action(perm):
    """Wrap a POST action on the request's rights page; a second approver's erasure is news, not an error."""
    return request_action(perm, url_name="privacy:rights", info_errors=(erasure.ErasureAlreadyExecutedError,))


def _record_rows(dsr, matches, items) -> list[dict]:
    rows = []
    for match in matches:
        record = match.record
        kind = "message" if match.message_id else ("customer" if match.customer_id else "contact_person")
        fields = [
            {"name": name, "label": label, "value": rectification.display_value(record, name)}
            for name, label in rectification.rectifiable_fields(record)
        ]
        rows.append(
            {
                "match": match,
                "item": f"{kind}:{record.code}",
                "is_message": bool(match.message_id),
                "restricted": getattr(record, "processing_restricted", False),
                "fields": fields,
                "current": {f["name"]: f["value"] for f in fields},
                "items": [i for i in items if i.match_id == match.pk],
            }
        )
    return rows


def request_rights(request, code):
    dsr = request_selectors.request_get_for_user(user=request.user, code=code)
    for register_id in dsr.register_parts.values_list("register_id", flat=True):
        log_access(request, dsr, {"register": register_id, "purpose": "data_subject_request"})
    matches = selectors.match_list(request=dsr, user=request.user)
    items = selectors.rectification_item_list(request=dsr)
    plan = erasure.plan_current(dsr) if dsr.kind == Kind.ERASURE else None
    proposed, suggested = refusals.proposed_outcome(dsr)
    context = {
        "dsr": dsr,
        "State": State,
        "Kind": Kind,
        "records": _record_rows(dsr, matches, items),
        "items": items,
        "plan": plan,
        "plan_rows": selectors.plan_rows(plan=plan),
        "tasks": dsr.notification_tasks.prefetch_related("disclosures"),
        "refusals": dsr.refusals.select_related("decided_by"),
        "letters": dsr.letters.all(),
        "events": dsr.events.filter(action__in=_RIGHTS_EVENTS).select_related("actor"),
        "can_handle": request_selectors.actor_holds(actor=request.user, request=dsr, perm=roles.HANDLE_REQUESTS),
        "can_approve": request_selectors.actor_holds(
            actor=request.user, request=dsr, perm=roles.APPROVE_REQUESTS, every=True
        ),
        "proposed": proposed,
        "suggested_grounds": suggested,
        "ineligible": portability_ineligible_registers(dsr) if dsr.kind == Kind.PORTABILITY else [],
        "package": dsr.packages.order_by("-generated_at").first(),
        "item_form": RectificationItemForm(),
        "refuse_item_form": RectificationRefuseForm(),
        "refusal_form": RefusalForm(),
        "decide_form": DecideForm(initial={"grounds": suggested}),
        "task_form": NotificationResolveForm(),
        "mention_form": MentionDecisionForm(),
        "can_decide_mentions": plan is not None
        and plan.status == "draft"
        and dsr.state in {State.IN_PROGRESS, State.REVIEW}
        and request_selectors.actor_holds(actor=request.user, request=dsr, perm=roles.HANDLE_REQUESTS),
        **_kind_context(dsr),
    }
    return render(request, "privacy/rights/request_rights.html", context)


def _kind_context(dsr) -> dict:
    """What the page of an objection or a restriction shows beside the shared parts: the weighing, the lifts."""
    if dsr.kind == Kind.OBJECTION:
        return {
            "weighing_form": ObjectionWeighingForm(),
            "weighing_pending": weighing_pending(dsr),
            "weighing_decided": weighing_decided(dsr),
            "weighable": bool(objection_weighing.weighed_registers(dsr)),
        }
    if dsr.kind == Kind.RESTRICTION:
        return {
            "lifts": dsr.restriction_lifts.select_related("asked_by", "cancelled_by"),
            "lift_pending": restriction_lift.lift_pending(dsr),
            "can_ask_lift": dsr.state in restriction_lift.LIFTABLE_REQUEST_STATES
            and dsr.events.filter(action="restriction_applied").exists(),
            "lift_form": RestrictionLiftForm(),
            "lift_cancel_form": RestrictionLiftCancelForm(),
            "lift_days": restriction_lift.notice_days(),
        }
    return {}


_RIGHTS_EVENTS = [
    "rectification_proposed",
    "rectification_applied",
    "rectification_refused",
    "erasure_planned",
    "erasure_executed",
    "restriction_applied",
    "restriction_lift_asked",
    "restriction_lift_notice_sent",
    "restriction_lifted",
    "restriction_lift_cancelled",
    "objection_applied",
    "objection_weighing_opened",
    "objection_weighed",
    "consent_withdrawn",
    "notifications_created",
    "notification_resolved",
    "refusal_decided",
]


@_action(roles.HANDLE_REQUESTS)
def request_prepare(request, dsr):
    request_services.request_prepare(request=dsr, actor=request.user)
    messages.success(request, _("The request waits for the decision of someone else who may approve answers."))


@_action(roles.HANDLE_REQUESTS)
def rectification_add(request, dsr):
    data = form_data(RectificationItemForm, request)
    match = selectors.match_get_for_user(request=dsr, user=request.user, item=data["record"])
    rectification.rectification_item_add(
        request=dsr,
        actor=request.user,
        match=match,
        field=data["field"],
        requested_value=data["requested_value"],
        source_checked=data["source_checked"],
    )
    messages.success(request, _("The requested correction was recorded."))


@_action(roles.HANDLE_REQUESTS)
def rectification_archive(request, dsr):
    data = form_data(RecordForm, request)
    match = selectors.match_get_for_user(request=dsr, user=request.user, item=data["record"])
    rectification.rectification_archive_answer(request=dsr, actor=request.user, match=match)
    messages.success(request, _("The answer says that the archive keeps messages as sent."))


@_action(roles.HANDLE_REQUESTS)
def rectification_refuse(request, dsr, item):
    data = form_data(RectificationRefuseForm, request)
    found = selectors.rectification_item_get_for_user(request=dsr, user=request.user, code=item)
    rectification.rectification_item_refuse(item=found, actor=request.user, ground=data["ground"], note=data["note"])
    messages.success(request, _("The correction was refused; the answer gives the reason."))


@_action(roles.HANDLE_REQUESTS)
def rectification_apply(request, dsr):
    applied = rectification.rectification_apply(request=dsr, actor=request.user)
    messages.success(request, _("%(count)s corrections were made.") % {"count": len(applied)})


@_action(roles.HANDLE_REQUESTS)
def erasure_plan(request, dsr):
    erasure.erasure_plan_compute(request=dsr, actor=request.user)
    messages.success(request, _("The erasure plan was computed. Nothing has been erased yet."))


@_action(roles.HANDLE_REQUESTS)
def erasure_mention_decide(request, dsr, item):
    data = form_data(MentionDecisionForm, request)
    erasure.erasure_mention_decide(
        request=dsr, actor=request.user, code=item, decision=data["decision"], note=data["decision_note"]
    )
    messages.success(request, _("The decision on the mention was recorded."))


@_action(roles.APPROVE_REQUESTS)
def erasure_execute(request, dsr):
    data = form_data(DecideForm, request)
    decided = erasure.erasure_execute(request=dsr, actor=request.user, text=data["text"], grounds=data["grounds"])
    counts = erasure.execution_summary(erasure.plan_current(decided))
    if decided.state == State.REFUSED:
        messages.warning(
            request,
            _("Nothing was erased: every record is kept on a legal ground. The refusal letter was sent."),
        )
    elif decided.state == State.PARTLY_REFUSED:
        messages.success(
            request,
            _(
                "The erasure was executed in part: %(erased)s records were erased, %(minimised)s kept with only the "
                "data their ground needs and %(kept)s kept whole. The letter tells the person what was kept and why."
            )
            % counts,
        )
    else:
        messages.success(request, _("The erasure was executed and the letter was sent."))


@_action(roles.HANDLE_REQUESTS)
def restriction_apply(request, dsr):
    customers = services.restriction_apply(request=dsr, actor=request.user)
    messages.success(request, _("Processing was restricted in %(count)s records.") % {"count": len(customers)})


@_action(roles.HANDLE_REQUESTS)
def restriction_lift_ask(request, dsr):
    data = form_data(RestrictionLiftForm, request)
    lift = restriction_lift.restriction_lift_ask(request=dsr, actor=request.user, reason=data["reason"])
    if lift.notice_id:
        messages.success(
            request,
            _("The person is told by e-mail; the restriction is lifted %(days)s days after the notice is sent.")
            % {"days": restriction_lift.notice_days()},
        )
    else:
        messages.warning(
            request,
            _("The requester has no e-mail address: print the notice, post it and record the posting."),
        )


@_action(roles.HANDLE_REQUESTS)
def restriction_lift_posted(request, dsr):
    lift = restriction_lift.restriction_lift_posted(request=dsr, actor=request.user)
    messages.success(
        request,
        _("The posting was recorded; the restriction is lifted on %(date)s.")
        % {"date": formats.date_format(timezone.localtime(lift.lift_due_at), "SHORT_DATE_FORMAT")},
    )


@_action(roles.HANDLE_REQUESTS)
def restriction_lift_cancel(request, dsr):
    data = form_data(RestrictionLiftCancelForm, request)
    restriction_lift.restriction_lift_cancel(request=dsr, actor=request.user, reason=data["reason"])
    messages.success(request, _("The lifting was cancelled; the records stay restricted."))


def restriction_lift_letter(request, code):
    # The notice for posting names the person and their address: the same right as the decision letter.
    dsr = request_selectors.request_get_for_user_rw(user=request.user, code=code, perm=roles.HANDLE_REQUESTS)
    lift = restriction_lift.lift_pending(dsr)
    if lift is None:
        raise Http404
    for register_id in dsr.register_parts.values_list("register_id", flat=True):
        log_access(request, dsr, {"register": register_id, "purpose": "restriction_lift_notice"})
    with translation.override(dsr.language):
        html = render_to_string(
            "privacy/rights/restriction_lift_letter.html",
            restriction_lift.restriction_lift_letter_context(request=dsr, lift=lift),
        )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = STORED_LETTER_CSP
    response["Cache-Control"] = "no-store"
    return response


@_action(roles.HANDLE_REQUESTS)
def objection_apply(request, dsr):
    records = services.objection_apply(request=dsr, actor=request.user)
    if records:
        messages.success(request, _("Direct marketing stopped at once in %(count)s records.") % {"count": len(records)})
    else:
        messages.info(request, _("The person is in none of the registers: nothing was stored. Send the answer."))


@_action(roles.HANDLE_REQUESTS)
def objection_weighing_open(request, dsr):
    objection_weighing.objection_weighing_open(request=dsr, actor=request.user)
    messages.success(
        request, _("The objection to processing is being weighed: record the outcome before the request is decided.")
    )


@_action(roles.HANDLE_REQUESTS)
def objection_weighing_decide(request, dsr):
    data = form_data(ObjectionWeighingForm, request)
    weighing = objection_weighing.objection_weighing_decide(
        request=dsr, actor=request.user, outcome=data["outcome"], grounds_text=data["grounds_text"]
    )
    if weighing.state == weighing.State.PROCESSING_STOPPED:
        messages.success(request, _("Processing of the person's data was stopped: the records are restricted."))
    else:
        messages.success(request, _("The compelling grounds were recorded; the answer refuses the objection on them."))


@_action(roles.HANDLE_REQUESTS)
def consents_withdraw(request, dsr):
    withdrawn = consent.request_consents_withdraw(request=dsr, actor=request.user)
    messages.success(request, _("%(count)s consents were withdrawn.") % {"count": len(withdrawn)})


@_action(roles.HANDLE_REQUESTS)
def portability_build(request, dsr):
    services.portability_build(request=dsr, actor=request.user)
    messages.success(request, _("The portable data is ready for review."))


@_action(roles.HANDLE_REQUESTS)
def notification_resolve(request, dsr, task):
    data = form_data(NotificationResolveForm, request)
    found = selectors.notification_task_get(request=dsr, code=task)
    disclosures.notification_task_resolve(
        task=found, actor=request.user, status=data["status"], justification=data["justification"], note=data["note"]
    )
    messages.success(request, _("The notification of %(recipient)s was recorded.") % {"recipient": found.recipient})


@_action(roles.APPROVE_REQUESTS)
def request_decide(request, dsr):
    data = form_data(DecideForm, request)
    refusals.rights_request_decide(request=dsr, actor=request.user, grounds=data["grounds"], text=data["text"])
    messages.success(request, _("The request was decided and the letter was sent."))


@_action(roles.APPROVE_REQUESTS)
def request_refuse(request, dsr):
    data = form_data(RefusalForm, request)
    refusals.request_refuse(
        request=dsr, actor=request.user, grounds=data["grounds"], text=data["text"], partial=data["partial"]
    )
    messages.success(request, _("The refusal was decided and the letter was sent."))


def _letter_response(letter) -> HttpResponse:
    response = HttpResponse(letter.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = STORED_LETTER_CSP
    response["Cache-Control"] = "no-store"
    return response


def request_letter(request, code):
    # The letter answers for every register of the request.
    dsr = request_selectors.request_get_for_user_rw(user=request.user, code=code, perm=roles.HANDLE_REQUESTS)
    letter = dsr.letters.order_by("-created_at", "-id").first()
    if letter is None:
        raise Http404
    for register_id in dsr.register_parts.values_list("register_id", flat=True):
        log_access(request, dsr, {"register": register_id, "purpose": "decision_letter"})
    return _letter_response(letter)


# Public links -------------------------------------------------------------------


@login_not_required
def request_letter_public(request, token):
    dsr = request_selectors.request_by_status_token(token=token)
    letter = dsr.letters.order_by("-created_at", "-id").first()
    if letter is None:
        raise Http404
    return _letter_response(letter)


@login_not_required
@require_http_methods(["GET", "POST"])
def consent_withdraw_public(request, token):
    record = consent.consent_by_withdraw_token(token=token)
    if request.method == "POST":
        # The withdrawal notice the page showed, if it is one of this consent's register and purpose.
        shown = selectors.notice_shown(
            register_id=record.register_id,
            kind=ConsentNotice.Kind.WITHDRAWAL,
            purpose=record.purpose,
            code=request.POST.get("notice", ""),
        )
        language = shown.text_in("text", get_language())[1] if shown else ""
        record = consent.consent_withdraw(consent=record, channel=consent.Channel.LINK, notice=shown, language=language)
        messages.success(request, _("Your consent has been withdrawn."))
        return redirect("privacy:consent-withdraw", token=token)
    notice = None
    if record.in_force:
        notice = selectors.notice_in_force(
            register=record.register, kind=ConsentNotice.Kind.WITHDRAWAL, purpose=record.purpose
        )
    return render(request, "privacy/rights/consent_withdraw.html", {"consent": record, "withdrawal_notice": notice})


# Register ledger and the customer's consents ----------------------------------------


@require_http_methods(["GET", "POST"])
def disclosure_ledger(request, register):
    register = register_get_for_user(user=request.user, slug=register)
    can_record = user_can(user=request.user, register=register, perm=roles.CHANGE_DATA)
    form = DisclosureForm(request.POST or None, initial={"customer": request.GET.get("customer")})
    customer = None
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied(crm_selectors.ERROR_READ_ONLY)
        if form.is_valid():
            customer = crm_selectors.customer_get_for_user_rw(
                user=request.user, register=register, code=form.cleaned_data["customer"]
            )
            data = {k: v for k, v in form.cleaned_data.items() if k not in {"customer", "disclosed_on"}}
            # The ledger records the day; noon keeps the date the same in every time zone of the EU.
            data["disclosed_at"] = timezone.make_aware(
                datetime.datetime.combine(form.cleaned_data["disclosed_on"], datetime.time(12))
            )
            if form.cleaned_data["disclosed_on"] == timezone.localdate():
                data["disclosed_at"] = timezone.now()
            try:
                disclosures.disclosure_record(actor=request.user, register=register, customer=customer, data=data)
            except ValidationError as error:
                show_errors(request, error)
            else:
                messages.success(request, _("The disclosure was recorded in the ledger."))
                return redirect("privacy:disclosures", register=register.slug)
    # Also after a refused post, so that the form comes back with its errors and the clerk's typing.
    if customer is None and form["customer"].value():
        try:
            customer = crm_selectors.customer_get_for_user(
                user=request.user, register=register, code=form["customer"].value()
            )
        except (Http404, ValidationError):
            # A link with a code that is not a UUID shows the ledger as a link to a missing customer does.
            customer = None
    log_access(request, register, {"purpose": "disclosure_ledger"})
    context = {
        "register": register,
        "disclosures": selectors.disclosure_list(register=register)[:500],
        "form": form,
        "customer": customer,
        "can_record": can_record,
    }
    return render(request, "privacy/rights/disclosure_ledger.html", context)


def _customer(request, register_slug, code, *, rw=False) -> Customer:
    register = register_get_for_user(user=request.user, slug=register_slug)
    getter = crm_selectors.customer_get_for_user_rw if rw else crm_selectors.customer_get_for_user
    return getter(user=request.user, register=register, code=code)


def customer_consents(request, register, code, form=None):
    customer = _customer(request, register, code)
    log_access(request, customer, {"purpose": "consents"})
    history = selectors.customer_rights_history(customer=customer)
    can_change = user_can(user=request.user, register=customer.register, perm=roles.CHANGE_DATA)
    # A withdrawal link acts without signing in: only staff who may change the data get to see it.
    links = (
        {c.pk: request.build_absolute_uri(_withdraw_path(c)) for c in history["consents"] if c.in_force}
        if can_change
        else {}
    )
    for record in history["consents"]:
        if can_change and record.in_force:
            record.withdraw_form = ConsentWithdrawForm(auto_id=f"id_withdraw_{record.code}_%s")
    notices = selectors.notices_in_force(register=customer.register, kind=ConsentNotice.Kind.CONSENT)
    uses_notices = bool(notices) or selectors.register_uses_notices(register=customer.register)
    initial = {"language": customer.language, "channel": ConsentRecord.Channel.PHONE}
    give_forms = []
    for notice in notices:
        bound = form if form is not None and str(form.data.get("notice", "")) == str(notice.code) else None
        language = initial["language"] if initial["language"] in notice.languages else notice.languages[0]
        give_forms.append((notice, bound or ConsentGiveForm(notice=notice, initial={**initial, "language": language})))
    if form is not None and uses_notices and not any(bound is form for _notice, bound in give_forms):
        # Posted for a version no longer in force: its form is gone from the page, so its errors are messages.
        show_errors(request, ValidationError([e for errors in form.errors.values() for e in errors]))
    context = {
        "customer": customer,
        "register": customer.register,
        **history,
        "links": links,
        "notices": notices,
        "uses_notices": uses_notices,
        "give_forms": give_forms,
        # Without notices the register records the purpose alone, its text "not recorded".
        "form": None if uses_notices else (form or ConsentGiveForm(initial=initial)),
        "can_change": can_change,
        "can_manage_notices": is_main_user(request.user)
        or user_can(user=request.user, register=customer.register, perm=roles.REVIEW_ACCESS),
    }
    return render(request, "privacy/rights/customer_consents.html", context)


def _withdraw_path(record) -> str:
    return reverse("privacy:consent-withdraw", kwargs={"token": consent.withdraw_token_make(record)})


@require_POST
def customer_consent_give(request, register, code):
    customer = _customer(request, register, code, rw=True)
    # The version the form says was read out, if it is one of this register's for the purpose posted.
    notice = selectors.notice_shown(
        register_id=customer.register_id,
        kind=ConsentNotice.Kind.CONSENT,
        purpose=request.POST.get("purpose", ""),
        code=request.POST.get("notice", ""),
    )
    form = ConsentGiveForm(request.POST, notice=notice)
    if not form.is_valid():
        # The page again, with each field's own error and what was typed.
        return customer_consents(request, register, code, form=form)
    data = form.cleaned_data
    if notice is None and data["notice"] is not None:
        messages.error(request, consent.ERROR_NOTICE_NOT_IN_FORCE)
        return redirect("privacy:customer-consents", register=customer.register.slug, code=customer.code)
    try:
        consent.consent_give(
            actor=request.user,
            customer=customer,
            purpose=data["purpose"],
            channel=data["channel"],
            notice=notice,
            language=data["language"],
        )
    except ValidationError as error:
        show_errors(request, error)
    else:
        messages.success(request, _("The consent was recorded."))
    return redirect("privacy:customer-consents", register=customer.register.slug, code=customer.code)


@require_POST
def customer_consent_withdraw(request, register, code, consent_code):
    customer = _customer(request, register, code, rw=True)
    record = selectors.consent_get(customer=customer, code=consent_code)
    form = ConsentWithdrawForm(request.POST)
    if not form.is_valid():
        show_errors(request, ValidationError([e for errors in form.errors.values() for e in errors]))
        return redirect("privacy:customer-consents", register=customer.register.slug, code=customer.code)
    day = form.cleaned_data["withdrawn_on"]
    try:
        consent.consent_withdraw(
            consent=record,
            actor=request.user,
            channel=form.cleaned_data["channel"] or ConsentRecord.Channel.PHONE,
            at=_received_at(day),
        )
    except ValidationError as error:
        show_errors(request, error)
    else:
        messages.success(request, _("The consent was withdrawn."))
    return redirect("privacy:customer-consents", register=customer.register.slug, code=customer.code)


def _received_at(day: datetime.date | None) -> datetime.datetime | None:
    # A withdrawal received today is dated now; one received on an earlier day (a letter read late) at noon of
    # that day, which is the same day in every time zone of the EU.
    if day is None or day == timezone.localdate():
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# The notice texts of a register ---------------------------------------------------------------------------------


@require_GET
def notice_list(request, register):
    register = register_get_for_owner(user=request.user, slug=register)
    context = {"register": register, "notices": selectors.notice_list(register=register)}
    return render(request, "privacy/rights/notice_list.html", context)


@require_http_methods(["GET", "POST"])
def notice_create(request, register):
    register = register_get_for_owner(user=request.user, slug=register)
    form = ConsentNoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, purpose = form.kind_and_purpose
        data = {name: form.cleaned_data[name] for name in ("version", "valid_from", "text_fi", "text_sv", "text_en")}
        try:
            notice = notices.consent_notice_create(
                actor=request.user, register=register, kind=kind, purpose=purpose, **data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Version %(version)s was added.") % {"version": notice.version})
            return redirect("privacy:notices", register=register.slug)
    return render(request, "privacy/rights/notice_form.html", {"register": register, "form": form})


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)
