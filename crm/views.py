"""The staff workspace: customer list, customer page, forms and the contact-centre archive.

Every view resolves the register through `_workspace` (404 for a register the
user was not granted) and reads personal data only through `crm.selectors`.
Changes go through `crm.services`; read-only roles get 403 on every form.
"""

import uuid
from collections.abc import Iterator

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header, urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from registers import audit, replica, roles
from registers.access import user_access
from registers.access_log import log_access
from registers.models import Register
from registers.sealing import SealBrokenError, unseal
from registers.spreadsheet import spreadsheet_row

from . import company_refresh, company_register, display, exports, saved_views, selectors, services, similarity
from .forms import (
    ArchiveFilterForm,
    CompanySearchForm,
    ContactPersonForm,
    CustomerFilterForm,
    CustomerForm,
    DuplicateConfirmForm,
    InteractionForm,
    add_model_errors,
)
from .mail import parse
from .models import ContactCentreMessage, Customer

PAGE_SIZE = 50
# Customers a download of a ticked selection names at most (a page shows PAGE_SIZE; more is "all that match").
PICKED_MAX = 1000
# A search or filter counts its matches up to this many: counting every match
# of a common term at 100,000 customers costs more than the page itself.
COUNT_CAP = 1000
TIMELINE_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 50
# Contact persons a search shows next to the customers; a longer list means the search is too broad.
CONTACT_HITS = 20
ARCHIVE_PAGE_SIZE = 50
# Messages of one conversation shown on a message's page; the thread view pages through the rest.
THREAD_LIMIT = 20
# Of an original that could not be parsed, the expert sees this many bytes as text (the .eml has it all).
RAW_SHOWN_MAX = 200_000
FORM_METHODS = ["GET", "POST"]


def _workspace(request, slug: str, *, kind: str | None = Register.Kind.CUSTOMER) -> tuple[Register, list]:
    """Return the register named in the URL and the header's links to all registers of the user, or raise 404.

    One query reads the register, marked with whether the user may change data
    in it (`register.can_change`); the links come from the request's `user_access`.
    """
    register = selectors.register_get_with_access(user=request.user, slug=slug, kind=kind)
    return register, user_access(request.user).links_for(roles.VIEW_DATA)


def _require_change(register: Register) -> None:
    if not register.can_change:
        raise PermissionDenied(selectors.ERROR_READ_ONLY)


def _context(register: Register, registers: list, **extra) -> dict:
    # `user_registers` here replaces the context processor's own query.
    return {"register": register, "user_registers": registers, "can_change": register.can_change, **extra}


def _filters(form) -> dict:
    """Return the valid filters of a list form, for the access log of an export."""
    return {name: value for name, value in getattr(form, "cleaned_data", {}).items() if value not in (None, "")}


def _list_query(request, register: Register):
    """Return the list's parameters and the saved view applied (`?view=<code>`, 404 for one the user may not use).

    The view's search, filters and sort come first; a parameter in the URL overrides its own (an emptied
    field too), so the form on the page narrows or widens a view as it does the plain list.
    """
    code = request.GET.get("view")
    saved_view = None
    if code:
        saved_view = saved_views.saved_view_get_for_user(user=request.user, register=register, code=code)
    data = dict(saved_view.query) if saved_view is not None else {}
    data.update((name, request.GET[name]) for name in saved_views.QUERY_FIELDS if name in request.GET)
    return data, saved_view


def _picked_codes(request) -> list[str]:
    """The customer codes a selection's download names (`customer=<code>`), valid ones only."""
    codes = []
    for code in request.GET.getlist("customer")[:PICKED_MAX]:
        try:
            codes.append(uuid.UUID(code))
        except ValueError:
            continue
    return codes


def _filtered_customers(request, register: Register, *, with_view: bool = False):
    data, saved_view = _list_query(request, register)
    form = CustomerFilterForm(data or None, register=register)
    form.is_valid()
    customers = saved_views.customers_for_form(user=request.user, register=register, form=form)
    if "customer" in request.GET:
        customers = customers.filter(code__in=_picked_codes(request))
    if with_view:
        return form, customers, saved_view
    return form, customers


def _contact_hits(user, register: Register, form) -> dict:
    """Return the first contact persons the list's search finds (each hit leads to the organisation)."""
    search = form.selector_kwargs()["search"]
    if not search:
        return {"contact_hits": [], "contact_hits_more": False}
    hits, more = selectors.contact_person_hits(user=user, register=register, search=search, limit=CONTACT_HITS)
    return {"contact_hits": hits, "contact_hits_more": more}


@vary_on_headers("HX-Request")
@require_GET
def customer_list(request, register):
    slug = register
    register, registers = _workspace(request, slug, kind=None)
    if register.kind == Register.Kind.CONTACT_CENTRE:
        return redirect("crm:message-list", register=register.slug)
    form, customers, saved_view = _filtered_customers(request, register, with_view=True)
    columns = saved_views.list_columns_for(register, saved_view)
    names = [*display.LIST_FIELDS, *(column.name for column in columns)]
    narrowed = any(value for name, value in form.selector_kwargs().items() if name != "ordering")
    paginator = display.CustomerPaginator(customers, PAGE_SIZE, fields=names, cap=COUNT_CAP if narrowed else None)
    page = paginator.get_page(display.page_number(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    context = _context(
        register,
        registers,
        form=form,
        search=display.search_control(form),
        filters=display.filter_controls(form),
        page=page,
        rows=display.list_rows(register, page.object_list, columns),
        columns=columns,
        collects_address=register.collects("address"),
        can_import=selectors.user_may_import(user=request.user, register=register),
        company_register_on=company_register.lookup_available(),
        saved_view=saved_view,
        list_query=query.urlencode(),
        filter_query=urlencode(saved_views.query_from(form.data)) if form.is_bound else "",
        **_contact_hits(request.user, register, form),
    )
    # Search as you type replaces only the results; a full load renders the page.
    if request.htmx and request.htmx.target == "customer-results":
        return render(request, "crm/_customer_results.html", context)
    context.update(
        saved_views=list(saved_views.saved_views_for(user=request.user, register=register)),
        all_columns=exports.list_columns(register),
        # The bulk form (segments' `bulk_action_form` tag) offers the tags the filter already read.
        bulk_tags=form.fields["tag"].choices[1:] if "tag" in form.fields else [],
    )
    return render(request, "crm/customer_list.html", context)


@require_GET
def customer_export(request, register):
    register, _registers = _workspace(request, register)
    form, customers = _filtered_customers(request, register)
    # GDPR 18(2): restricted data is only stored; a file taken out of the system is use, so it leaves them out.
    customers = customers.filter(processing_restricted=False)
    columns = exports.customer_columns(register)
    # An export reads the replica, if any (registers.replica), the rights above having been read on the primary;
    # chosen before the export logs itself, since that entry is no row of the file.
    rows = exports.customer_values(customers, columns).using(replica.replica_alias())
    log_access(request, register, {"export": "customers_csv", "filter": _filters(form), "rows": exports.count(rows)})
    return exports.csv_response(
        exports.customer_csv_rows(rows, columns), filename=exports.filename(register, "customers", "csv")
    )


def _label_customers(request, register: Register):
    if not register.collects("address"):
        raise Http404
    form, customers = _filtered_customers(request, register)
    # Seed 003: a person may forbid the use of their data in mailing lists;
    # restricted processing (GDPR art. 18) rules out any such use as well.
    # On the replica, if any, as the customer export (registers.replica).
    return form, exports.label_queryset(customers.reachable_for_marketing()).using(replica.replica_alias())


@require_GET
def customer_labels_csv(request, register):
    register, _registers = _workspace(request, register)
    form, customers = _label_customers(request, register)
    log_access(request, register, {"export": "labels_csv", "filter": _filters(form), "rows": exports.count(customers)})
    return exports.csv_response(exports.label_csv_rows(customers), filename=exports.filename(register, "labels", "csv"))


@require_GET
def customer_labels_pdf(request, register):
    register, _registers = _workspace(request, register)
    form, customers = _label_customers(request, register)
    count = exports.count(customers)
    if count > exports.MAX_PDF_LABELS:
        messages.error(
            request,
            _("%(count)s labels are too many for one PDF (at most %(max)s). Narrow the list or download the CSV.")
            % {"count": count, "max": exports.MAX_PDF_LABELS},
        )
        return redirect(reverse("crm:customer-list", kwargs={"register": register.slug}) + _query(request))
    log_access(request, register, {"export": "labels_pdf", "filter": _filters(form), "rows": count})
    return exports.pdf_response(
        exports.labels_pdf(customers, request=request), filename=exports.filename(register, "labels", "pdf")
    )


def _query(request) -> str:
    query = request.GET.urlencode()
    return f"?{query}" if query else ""


def _changeable_entry_urls(user, register: Register, timeline, rows) -> set[str]:
    """Return the edit links of the timeline entries the user may change: their own, or all with the right."""
    every = register.can_change_others_entries
    return {
        row.edit_url
        for row, entry in zip(rows, timeline.entries, strict=True)
        if not entry.is_invoice and (every or entry.staff_user_id == user.pk)
    }


@require_GET
def customer_detail(request, register, code):
    # The most visited page reads its register with the customer; the header comes from `user_access`.
    try:
        customer = selectors.customer_get_with_register(user=request.user, register_slug=register, code=code)
    except Http404:
        # A merged-away customer's links lead to the survivor, for those who may see it.
        survivor = selectors.customer_merged_into(user=request.user, register_slug=register, code=code)
        if survivor is None:
            raise
        return redirect(survivor)
    register, registers = customer.register, user_access(request.user).links_for(roles.VIEW_DATA)
    log_access(request, customer)
    timeline = selectors.customer_timeline_page(
        customer=customer, page=display.page_number(request.GET.get("page")), per_page=TIMELINE_PAGE_SIZE
    )
    can_edit = register.can_change and not customer.processing_restricted
    timeline_rows = display.timeline_rows(register, customer, timeline.entries)
    context = _context(
        register,
        registers,
        customer=customer,
        fields=display.field_rows(customer),
        contact_persons=customer.contact_person_list,
        timeline=timeline,
        timeline_rows=timeline_rows,
        changeable_entry_urls=_changeable_entry_urls(request.user, register, timeline, timeline_rows)
        if can_edit
        else set(),
        edit_label=_("Edit"),
        remove_label=_("Remove"),
        can_edit=can_edit,
        can_delete=can_edit and register.can_delete_customers,
        company_panel=company_register.customer_panel(customer),
        company_changes=_company_changes(request.user, customer),
    )
    if request.htmx and request.htmx.target == "timeline":
        return render(request, "crm/_timeline.html", context)
    return render(request, "crm/customer_detail.html", context)


def _likely_duplicates(request, register: Register, kind: str, form) -> list:
    """Return the customers of the register that the (possibly incomplete) form's valid values look like."""
    form.is_valid()
    data = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    return similarity.customer_likely_duplicates(user=request.user, register=register, kind=kind, data=data)


@require_GET
def customer_history(request, register, code):
    """Who changed and who viewed the customer, and when: its records merged into it included."""
    register, registers = _workspace(request, register)
    customer = selectors.customer_get_for_user(user=request.user, register=register, code=code)
    entries = selectors.customer_history(user=request.user, customer=customer)
    # Logged first: the page counts its entries before it reads them, and this view is one of them.
    log_access(request, customer, {"view": "history"})
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(display.page_number(request.GET.get("page")))
    rows = audit.entry_rows(page.object_list, reveal_personal_data=True)
    return render(
        request, "crm/customer_history.html", _context(register, registers, customer=customer, page=page, rows=rows)
    )


@require_http_methods(FORM_METHODS)
def customer_create(request, register, kind):
    register, registers = _workspace(request, register)
    if kind not in Customer.Kind.values:
        raise Http404
    _require_change(register)
    initial, lookup, record = {"version": 1}, None, request.POST.get("company_record", "")
    if kind == Customer.Kind.ORGANISATION and request.method == "GET" and "lookup" in request.GET:
        lookup = company_register.company_lookup(request.GET["lookup"])
        if lookup.facts:
            initial.update(company_register.initial_from_facts(lookup.facts))
            record = lookup.record
    form = CustomerForm(request.POST or None, register=register, kind=kind, initial=initial)
    confirm = DuplicateConfirmForm(request.POST or None)
    likely = []
    if request.method == "POST" and form.is_valid():
        likely = _likely_duplicates(request, register, kind, form)
    # Likely duplicates stop a save until "a different customer" is ticked: the form comes back with them, as
    # typed. The same business ID cannot be saved twice whatever is ticked: the service's error says so next to
    # the field, and the warning links to the customer that has it.
    taken = any(similarity.SAME_BUSINESS_ID in hit.codes for hit in likely)
    different = confirm.is_valid() and confirm.cleaned_data["different_customer"]
    if request.method == "POST" and form.is_valid() and (taken or different or not likely):
        confirmed = company_register.record_from_form(record, form.cleaned_data.get("business_id", ""))
        try:
            customer = services.customer_create(
                actor=request.user, register=register, data=form.service_data(), company_record=confirmed
            )
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("Customer %(name)s was added.") % {"name": customer.display_name})
            return redirect(customer)
    context = _context(
        register,
        registers,
        form=form,
        kind=kind,
        lookup=lookup,
        company_record=record,
        lookup_available=kind == Customer.Kind.ORGANISATION and company_register.lookup_available(),
        likely_duplicates=likely,
        confirm_form=confirm if likely and not taken else None,
    )
    return render(request, "crm/customer_form.html", context)


@require_POST
def customer_duplicate_check(request, register, kind):
    """Answer the new-customer form's live check (htmx) with the likely duplicates of what is typed so far.

    POST, so that names and addresses being typed stay out of URLs and server logs; nothing is written.
    """
    register, _registers = _workspace(request, register)
    if kind not in Customer.Kind.values:
        raise Http404
    _require_change(register)
    form = CustomerForm(request.POST, register=register, kind=kind)
    likely = _likely_duplicates(request, register, kind, form)
    # The box comes with the warning, kept as it was, so that ticking it before saving spares a round.
    context = {"register": register, "likely_duplicates": likely, "confirm_form": DuplicateConfirmForm(request.POST)}
    return render(request, "crm/_likely_duplicates.html", context)


def _initial(instance) -> dict:
    """Return the stored values of a record as a form's initial data, with its version."""
    return {field.name: getattr(instance, field.name) for field in instance._meta.concrete_fields}


def _conflict_rows(form, current) -> list[tuple[str, object, object]]:
    """Return (label, saved value, the user's value) of each field that differs from the saved record."""
    rows = []
    for name, field in form.fields.items():
        if name == "version" or name not in form.cleaned_data:
            continue
        saved = getattr(current, name)
        mine = form.cleaned_data[name]
        if (saved or "") != (mine or ""):
            rows.append((field.label, saved, mine))
    return rows


def _rebound_after_conflict(form, request, current, **kwargs):
    # Keep everything the user typed, but base the next save on the version
    # now stored: saving again after reviewing is a deliberate overwrite.
    data = request.POST.copy()
    data["version"] = current.version
    rebound = type(form)(data, **kwargs)
    rebound.is_valid()
    return rebound


@require_http_methods(FORM_METHODS)
def customer_update(request, register, code):
    register, registers = _workspace(request, register)
    customer = selectors.customer_get_for_user_rw(user=request.user, register=register, code=code)
    form_kwargs = {"register": register, "kind": customer.kind}
    form = CustomerForm(request.POST or None, initial=_initial(customer), **form_kwargs)
    conflict = []
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_update(
                actor=request.user, customer=customer, data=form.service_data(), version=form.cleaned_data["version"]
            )
        except services.EditConflictError as error:
            current = selectors.customer_get_for_user(user=request.user, register=register, code=code)
            form = _rebound_after_conflict(form, request, current, **form_kwargs)
            conflict = _conflict_rows(form, current)
            form.add_error(None, error.message)
            customer = current
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(customer)
    return render(
        request,
        "crm/customer_form.html",
        _context(register, registers, form=form, customer=customer, kind=customer.kind, conflict=conflict),
    )


@require_http_methods(FORM_METHODS)
def customer_delete(request, register, code):
    register, registers = _workspace(request, register)
    customer = selectors.customer_get_for_delete(user=request.user, register=register, code=code)
    if request.method == "POST":
        try:
            services.customer_delete(actor=request.user, customer=customer)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(customer)
        messages.success(request, _("Customer %(name)s was deleted.") % {"name": customer.display_name})
        return redirect("crm:customer-list", register=register.slug)
    return render(request, "crm/customer_delete.html", _context(register, registers, customer=customer))


@require_POST
def company_change_decide(request, register, code, change, decision):
    register, _registers, customer = _customer_rw(request, register, code)
    found = company_refresh.company_change_list(user=request.user, customer=customer).filter(code=change).first()
    if found is None:
        raise Http404
    decide = company_refresh.company_change_apply if decision == "apply" else company_refresh.company_change_dismiss
    try:
        decide(actor=request.user, change=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = _("The change was applied.") if decision == "apply" else _("The change was dismissed.")
        messages.success(request, done)
    return redirect(customer)


def _require_company_adding(request, register: Register) -> None:
    if not company_register.lookup_available():
        raise Http404
    if not selectors.user_may_import(user=request.user, register=register):
        raise PermissionDenied(company_register.ERROR_NO_ADD_RIGHT)


@require_http_methods(FORM_METHODS)
def company_search(request, register):
    """Search the company register and add the chosen companies as organisations, several at once."""
    register, registers = _workspace(request, register)
    _require_company_adding(request, register)
    data = request.POST if request.method == "POST" else request.GET
    form = CompanySearchForm(data if any(data.get(name) for name in CompanySearchForm.base_fields) else None)
    lookup = company_register.companies_search_page(**form.criteria()) if form.is_valid() else None
    found = lookup.matches.companies if lookup and lookup.matches else ()
    if request.method == "POST" and lookup and not lookup.error:
        chosen = set(request.POST.getlist("business_id"))
        try:
            added = company_register.companies_add(
                actor=request.user, register=register, companies=[c for c in found if c.business_id in chosen]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Companies added: %(added)s. Already in the register: %(already)s.")
                % {"added": len(added.added), "already": len(added.already)},
            )
            return redirect("crm:customer-list", register=register.slug)
    have = (
        set(
            selectors.customer_list(user=request.user, register=register)
            .filter(business_id__in=[company.business_id for company in found])
            .values_list("business_id", flat=True)
        )
        if found
        else set()
    )
    context = _context(register, registers, form=form, lookup=lookup, have=have)
    return render(request, "crm/company_search.html", context)


def _company_changes(user, customer) -> list[dict]:
    # Only an organisation the nightly refresh has compared can have changes: the others cost no query.
    if not customer.company_status:
        return []
    return [
        {
            "code": change.code,
            "label": capfirst(Customer._meta.get_field(change.field).verbose_name),
            "old": change.old_value,
            "new": change.new_value,
            "found": change.created_at,
        }
        for change in company_refresh.company_change_list(user=user, customer=customer)
    ]


def _customer_rw(request, register, code):
    register, registers = _workspace(request, register)
    customer = selectors.customer_get_for_user_rw(user=request.user, register=register, code=code)
    return register, registers, customer


@require_http_methods(FORM_METHODS)
def contact_person_create(request, register, code):
    register, registers, customer = _customer_rw(request, register, code)
    if not customer.is_organisation:
        raise Http404
    form = ContactPersonForm(request.POST or None, initial={"version": 1})
    if request.method == "POST" and form.is_valid():
        try:
            person = services.contact_person_create(actor=request.user, customer=customer, data=form.service_data())
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("Contact person %(name)s was added.") % {"name": person.display_name})
            return redirect(customer)
    return render(request, "crm/contact_person_form.html", _context(register, registers, form=form, customer=customer))


@require_http_methods(FORM_METHODS)
def contact_person_update(request, register, code, person):
    register, registers, customer = _customer_rw(request, register, code)
    person = selectors.contact_person_get_for_user(user=request.user, customer=customer, code=person)
    form = ContactPersonForm(request.POST or None, initial=_initial(person))
    conflict = []
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_person_update(
                actor=request.user, person=person, data=form.service_data(), version=form.cleaned_data["version"]
            )
        except services.EditConflictError as error:
            current = selectors.contact_person_get_for_user(user=request.user, customer=customer, code=person.code)
            form = _rebound_after_conflict(form, request, current)
            conflict = _conflict_rows(form, current)
            form.add_error(None, error.message)
            person = current
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(customer)
    return render(
        request,
        "crm/contact_person_form.html",
        _context(register, registers, form=form, customer=customer, person=person, conflict=conflict),
    )


@require_http_methods(FORM_METHODS)
def contact_person_delete(request, register, code, person):
    register, registers, customer = _customer_rw(request, register, code)
    person = selectors.contact_person_get_for_user(user=request.user, customer=customer, code=person)
    if request.method == "POST":
        try:
            services.contact_person_delete(actor=request.user, person=person)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Contact person %(name)s was removed.") % {"name": person.display_name})
        return redirect(customer)
    return render(
        request, "crm/contact_person_delete.html", _context(register, registers, customer=customer, person=person)
    )


@require_http_methods(FORM_METHODS)
def interaction_create(request, register, code):
    register, registers, customer = _customer_rw(request, register, code)
    initial = {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
    form = InteractionForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_create(actor=request.user, customer=customer, data=form.service_data())
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The interaction was added to the timeline."))
            return redirect(customer)
    return render(request, "crm/interaction_form.html", _context(register, registers, form=form, customer=customer))


@require_http_methods(FORM_METHODS)
def interaction_update(request, register, code, interaction):
    register, registers, customer = _customer_rw(request, register, code)
    interaction = selectors.interaction_get_for_user_rw(user=request.user, customer=customer, code=interaction)
    initial = _initial(interaction)
    initial["occurred_at"] = timezone.localtime(interaction.occurred_at)
    initial["contact_person"] = interaction.contact_person.code if interaction.contact_person_id else None
    form = InteractionForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(actor=request.user, interaction=interaction, data=form.service_data())
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(customer)
    return render(
        request,
        "crm/interaction_form.html",
        _context(register, registers, form=form, customer=customer, interaction=interaction),
    )


@require_http_methods(FORM_METHODS)
def interaction_delete(request, register, code, interaction):
    register, registers, customer = _customer_rw(request, register, code)
    interaction = selectors.interaction_get_for_user_rw(user=request.user, customer=customer, code=interaction)
    if request.method == "POST":
        try:
            services.interaction_delete(actor=request.user, interaction=interaction)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The interaction was removed from the timeline."))
        return redirect(customer)
    return render(
        request,
        "crm/interaction_delete.html",
        _context(register, registers, customer=customer, interaction=interaction),
    )


class ArchivePaginator(Paginator):
    """Pages of an archive list that count at most `cap` matches (`capped` tells whether more exist).

    Counting every one of 300,000 messages that contain a common word costs more than the page itself; the
    list says "more than 1,000" and the filters narrow it.
    """

    def __init__(self, object_list, per_page, *, cap: int):
        super().__init__(object_list, per_page)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        keys = len(self.object_list.order_by().values_list("pk", flat=True)[: self.cap + 1])
        self.capped = keys > self.cap
        return min(keys, self.cap)

    def page(self, number):
        # The page's keys first, then its rows: sorting 200,000 matches of a common word by time carries two
        # columns instead of whole messages, which halves the search's time at 1,000,000 messages.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        keys = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        return self._get_page(list(self.object_list.filter(pk__in=keys)), number, self)


def archive_paginator(items, per_page: int = ARCHIVE_PAGE_SIZE) -> ArchivePaginator:
    return ArchivePaginator(items, per_page, cap=COUNT_CAP)


def _archive(request, register, list_selector, *, messages_list: bool = False):
    register, registers = _workspace(request, register, kind=Register.Kind.CONTACT_CENTRE)
    form = ArchiveFilterForm(
        request.GET or None,
        clients=selectors.ordering_client_list(user=request.user, register=register),
        messages=messages_list,
    )
    form.is_valid()
    filters = form.selector_kwargs() if form.is_bound else {}
    if messages_list:
        items = list_selector(user=request.user, register=register, **filters)
    else:
        items = list_selector(user=request.user, register=register)
        if filters.get("ordering_client"):
            items = items.filter(ordering_client=filters["ordering_client"])
    page = archive_paginator(items).get_page(display.page_number(request.GET.get("page")))
    can_upload = selectors.user_holds_right(user=request.user, register=register, right=roles.ADD_ARCHIVE_MAIL)
    return _context(register, registers, form=form, page=page, can_upload=can_upload)


@require_GET
def message_list(request, register):
    context = _archive(request, register, selectors.message_list, messages_list=True)
    # The export takes the valid filters only: a refused search (an identity code) is not carried on.
    query = request.GET.copy()
    for name in [*context["form"].errors, "page"]:
        query.pop(name, None)
    context["export_query"] = query.urlencode()
    return render(request, "crm/message_list.html", context)


def _message(request, register, code):
    register, registers = _workspace(request, register, kind=Register.Kind.CONTACT_CENTRE)
    message = selectors.message_get_for_user(user=request.user, register=register, code=code)
    return register, registers, message


@require_GET
def message_detail(request, register, code):
    register, registers, message = _message(request, register, code)
    log_access(request, message)
    thread = list(selectors.message_thread(user=request.user, register=register, message=message)[:THREAD_LIMIT])
    context = _context(
        register,
        registers,
        message=message,
        attachments=selectors.message_attachment_list(message=message),
        thread=thread if len(thread) > 1 else [],
        may_read_original=selectors.user_holds_right(
            user=request.user, register=register, right=roles.READ_ARCHIVE_ORIGINALS
        ),
    )
    return render(request, "crm/message_detail.html", context)


@require_GET
def message_thread(request, register, code):
    register, registers, message = _message(request, register, code)
    thread = selectors.message_thread(user=request.user, register=register, message=message).prefetch_related(
        "attachments"
    )
    page = Paginator(thread, ARCHIVE_PAGE_SIZE).get_page(display.page_number(request.GET.get("page")))
    for each in page:
        log_access(request, each, {"thread": str(message.code)})
    return render(request, "crm/message_thread.html", _context(register, registers, message=message, page=page))


# What a browser would run or render as a page: such an attachment goes out as plain bytes.
ACTIVE_TYPE_PARTS = ("html", "xml", "javascript", "ecmascript", "svg", "flash", "x-sh", "json")
PASSIVE_TEXT_TYPES = {"text/plain", "text/csv"}


def _served_type(content_type: str) -> str:
    """Return the type an attachment is served with: the type by content, unless a browser would make it active."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if not kind or any(part in kind for part in ACTIVE_TYPE_PARTS):
        return "application/octet-stream"
    if kind.startswith("text/") and kind not in PASSIVE_TEXT_TYPES:
        return "application/octet-stream"
    return kind


def _read_sealed(stored) -> bytes | None:
    """Return the unsealed bytes of an archived file, or None when it is missing or cannot be opened."""
    if not stored:
        return None
    try:
        with stored.open("rb") as handle:
            return unseal(handle.read())
    except (OSError, SealBrokenError):
        return None


def _file_response(data: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
def message_attachment(request, register, code, attachment):
    register, _registers = _workspace(request, register, kind=Register.Kind.CONTACT_CENTRE)
    found = selectors.message_attachment_get_for_user(
        user=request.user, register=register, code=code, attachment=attachment
    )
    data = _read_sealed(found.file)
    if data is None:
        raise Http404
    log_access(request, found.message, {"attachment": str(found.code), "filename": found.filename})
    return _file_response(data, content_type=_served_type(found.content_type), filename=found.filename)


ERROR_NO_ORIGINAL = gettext_lazy("The original of this message is not stored, or it cannot be opened.")
ERROR_NO_ORIGINAL_RIGHT = gettext_lazy("Only a contact-centre expert may open the original of an archived message.")


@require_http_methods(FORM_METHODS)
def message_original(request, register, code):
    register, registers, message = _message(request, register, code)
    if not selectors.user_holds_right(user=request.user, register=register, right=roles.READ_ARCHIVE_ORIGINALS):
        raise PermissionDenied(ERROR_NO_ORIGINAL_RIGHT)
    context = _context(register, registers, message=message)
    if request.method == "GET":
        return render(request, "crm/message_original.html", context)
    raw = _read_sealed(message.raw)
    if raw is None:
        context["error"] = ERROR_NO_ORIGINAL
        return render(request, "crm/message_original.html", context)
    download = request.POST.get("action") == "download"
    log_access(request, message, {"original": True, **({"download": "eml"} if download else {})})
    if download:
        return _file_response(raw, content_type="message/rfc822", filename=f"{message.code}.eml")
    parsed = parse(raw, masked=False)
    raw_text = raw[:RAW_SHOWN_MAX].decode("utf-8", "replace") if parsed.unreadable else ""
    context.update(original=parsed, raw_text=raw_text)
    return render(request, "crm/message_original.html", context)


def _message_csv_rows(rows) -> Iterator[list[str]]:
    yield [
        capfirst(str(label))
        for label in (
            _("time"),
            _("direction"),
            _("ordering client"),
            _("from"),
            _("to"),
            _("subject"),
            _("attachments"),
            _("could not be read"),
        )
    ]
    when, direction = exports._local_datetime(), exports._choice(ContactCentreMessage.Direction.choices)
    yes_no = exports._yes_no()
    for sent_at, kind, client, sender, recipient, subject, attachments, unreadable in exports.keyset_rows(rows):
        yield spreadsheet_row(
            when(sent_at), direction(kind), client, sender, recipient, subject, attachments, yes_no(unreadable)
        )


@require_GET
def message_export(request, register):
    register, _registers = _workspace(request, register, kind=Register.Kind.CONTACT_CENTRE)
    form = ArchiveFilterForm(
        request.GET or None, clients=selectors.ordering_client_list(user=request.user, register=register)
    )
    form.is_valid()
    messages_in_scope = selectors.message_list(
        user=request.user, register=register, **(form.selector_kwargs() if form.is_bound else {})
    )
    # On the primary: a client manager's rows are scoped by a join on the ordering clients' managers in this very
    # query, a permission answer the replica might give late (registers.replica).
    rows = selectors.message_export_values(messages_in_scope)
    log_access(request, register, {"export": "messages_csv", "filter": _filters(form), "rows": rows.count()})
    return exports.csv_response(_message_csv_rows(rows), filename=exports.filename(register, "messages", "csv"))


@require_GET
def call_recording_list(request, register):
    context = _archive(request, register, selectors.call_recording_list)
    return render(request, "crm/call_recording_list.html", context)
