"""The duplicate screens of a register: likely duplicates, the side-by-side merge, the merges and their undo.

Every view resolves the register through `_register` (404 for a register the user cannot see, 403 for a role
without the merge right); records come through `duplicates.selectors`, changes through `duplicates.services`.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import selectors as crm_selectors
from crm.display import page_number
from crm.forms import add_model_errors
from crm.models import Customer
from crm.similarity import reason_labels
from registers.access_log import log_access
from registers.models import Register

from . import selectors, services
from .forms import MergeForm, RecordSearchForm, UndoForm
from .models import CustomerMerge, DuplicateCandidate

PAGE_SIZE = 30
MAX_RECORDS = 5
SEARCH_RESULTS = 10
FORM_METHODS = ["GET", "POST"]


def _register(request, slug: str) -> Register:
    register = crm_selectors.register_get_with_access(user=request.user, slug=slug, kind=Register.Kind.CUSTOMER)
    selectors.require_merge_right(user=request.user, register=register)
    return register


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(page_number(request.GET.get("page")))


@require_GET
def candidate_list(request, register):
    register = _register(request, register)
    dismissed = request.GET.get("state") == DuplicateCandidate.State.DISMISSED
    state = DuplicateCandidate.State.DISMISSED if dismissed else DuplicateCandidate.State.OPEN
    page = _page(request, selectors.candidate_list(user=request.user, register=register, state=state))
    rows = [(candidate, reason_labels(candidate.reasons)) for candidate in page]
    log_access(request, register, {"view": "duplicate_candidates", "rows": len(rows)})
    return render(
        request,
        "duplicates/candidate_list.html",
        {"register": register, "page": page, "rows": rows, "dismissed": dismissed},
    )


@require_POST
def candidate_dismiss(request, register, code):
    register = _register(request, register)
    candidate = selectors.candidate_get(user=request.user, register=register, code=code)
    services.candidate_dismiss(actor=request.user, candidate=candidate)
    messages.success(request, _("The pair was marked as not duplicates: it will not be proposed again."))
    return redirect("duplicates:candidate-list", register=register.slug)


def _merge_screen(request, register: Register, *, records: list, parent: Customer | None):
    """The side-by-side comparison (GET) and the merge (POST) of customers or of one organisation's contacts."""
    rules = services.CUSTOMER_RULES if parent is None else services.CONTACT_PERSON_RULES
    blockers = selectors.merge_blockers(records=records) if len(records) > 1 else []
    form = None
    if len(records) > 1:
        survivor = records[0]
        form = MergeForm(
            request.POST if request.method == "POST" else None,
            records=records,
            fields=rules.choosable(survivor),
            defaults=selectors.merge_defaults(rules=rules, survivor=survivor, records=records),
            blocked=bool(blockers),
        )
        if request.method == "POST" and form.is_valid():
            service = services.customer_merge if parent is None else services.contact_person_merge
            try:
                merge = service(actor=request.user, **form.service_arguments())
            except ValidationError as error:
                add_model_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The records were merged. The merge can be undone until %(date)s.")
                    % {"date": timezone.localtime(merge.undo_until).strftime("%d.%m.%Y")},
                )
                return redirect(parent or merge.customer)
    for record in records:
        log_access(request, record, {"view": "merge_comparison"})
    query = RecordSearchForm(request.GET)
    search = query.cleaned_data["q"].strip() if query.is_valid() else ""
    found = []
    if parent is None and search:
        codes = {record.code for record in records}
        found = [
            customer
            for customer in crm_selectors.customer_list(user=request.user, register=register, search=search)[
                : SEARCH_RESULTS + len(records)
            ]
            if customer.code not in codes
        ][:SEARCH_RESULTS]
    return render(
        request,
        "duplicates/merge_form.html",
        {
            "register": register,
            "parent": parent,
            "records": records,
            "form": form,
            "blockers": blockers,
            "search": search,
            "found": found,
            "codes": [str(record.code) for record in records],
            "can_add": len(records) < MAX_RECORDS,
            "undo_days": CustomerMerge.UNDO_DAYS,
        },
    )


def _codes(request) -> list[str]:
    source = request.POST if request.method == "POST" else request.GET
    codes = source.getlist("records")
    if len(codes) > MAX_RECORDS:
        raise Http404
    return codes


@require_http_methods(FORM_METHODS)
def customer_merge(request, register):
    register = _register(request, register)
    records = selectors.customers_for_merge(user=request.user, register=register, codes=_codes(request))
    if records and len({record.kind for record in records}) > 1:
        messages.error(request, services.ERROR_KINDS_DIFFER)
        records = records[:1]
    return _merge_screen(request, register, records=records, parent=None)


@require_http_methods(FORM_METHODS)
def contact_person_merge(request, register, code):
    register = _register(request, register)
    organisation = crm_selectors.customer_get_for_user_rw(user=request.user, register=register, code=code)
    records = selectors.contact_persons_for_merge(user=request.user, customer=organisation, codes=_codes(request))
    return _merge_screen(request, register, records=records, parent=organisation)


@require_GET
def merge_list(request, register):
    register = _register(request, register)
    merges = selectors.merge_list(user=request.user, register=register)
    customer, query = None, RecordSearchForm(request.GET)
    if not query.is_valid():
        raise Http404
    if query.cleaned_data["customer"]:
        code = query.cleaned_data["customer"]
        customer = crm_selectors.customer_get_for_user(user=request.user, register=register, code=code)
        merges = merges.filter(customer=customer)
    return render(
        request,
        "duplicates/merge_list.html",
        {"register": register, "page": _page(request, merges), "customer": customer},
    )


@require_http_methods(FORM_METHODS)
def merge_detail(request, register, code):
    register = _register(request, register)
    merge = selectors.merge_get(user=request.user, register=register, code=code)
    refusal = selectors.merge_undo_refusal(merge=merge, now=timezone.now())
    form = UndoForm(request.POST or None) if refusal is None else None
    if request.method == "POST":
        if form is None:
            messages.error(request, refusal)
            return redirect("duplicates:merge-detail", register=register.slug, code=merge.code)
        if form.is_valid():
            try:
                services.merge_undo(actor=request.user, merge=merge, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                add_model_errors(form, error)
            else:
                messages.success(request, _("The merge was undone: the records are separate again."))
                return redirect(merge.customer)
    log_access(request, merge.customer, {"view": "merge", "merge": str(merge.code)})
    return render(
        request,
        "duplicates/merge_detail.html",
        {
            "register": register,
            "merge": merge,
            "changes": selectors.merge_field_changes(merge=merge),
            "counts": selectors.merge_counts(merge=merge),
            "refusal": refusal,
            "form": form,
        },
    )
