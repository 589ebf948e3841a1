"""Tags, saved views and bulk actions of a customer register: thin views over segments' selectors and services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import selectors as crm_selectors
from crm import tagging
from registers import roles
from registers.access import user_access
from registers.models import Register

from . import selectors, services
from .forms import ACTION_EXPORT, BulkActionForm, SavedViewForm, TagChoiceForm, TagForm
from .models import BulkAction

FORM_METHODS = ["GET", "POST"]


def _workspace(request, slug: str) -> tuple[Register, list]:
    """The customer register named in the URL (404 for one the user was not granted) and the header's links."""
    register = crm_selectors.register_get_with_access(user=request.user, slug=slug, kind=Register.Kind.CUSTOMER)
    return register, user_access(request.user).links_for(roles.VIEW_DATA)


def _require_change(register: Register) -> None:
    if not register.can_change:
        raise PermissionDenied(crm_selectors.ERROR_READ_ONLY)


def _context(register: Register, registers: list, **extra) -> dict:
    return {"register": register, "user_registers": registers, "can_change": register.can_change, **extra}


def _may_manage_tags(request, register) -> bool:
    return register.can_change and crm_selectors.user_holds_right(
        user=request.user, register=register, right=roles.MANAGE_TAGS
    )


def _require_manage(request, register) -> None:
    if not _may_manage_tags(request, register):
        raise PermissionDenied(tagging.ERROR_NO_TAG_RIGHT)


def _errors_to(form, error: ValidationError, field: str | None = None) -> None:
    for message in error.messages:
        form.add_error(field, message)


def _list_url(register, query: str = "") -> str:
    url = reverse("crm:customer-list", kwargs={"register": register.slug})
    return f"{url}?{query}" if query else url


@require_GET
def tag_list(request, register):
    register, registers = _workspace(request, register)
    manage = _may_manage_tags(request, register)
    tags = (
        selectors.tag_list_with_usage(user=request.user, register=register)
        if manage
        else selectors.tag_list(user=request.user, register=register)
    )
    form = TagForm() if manage else None
    return render(
        request,
        "segments/tag_list.html",
        _context(register, registers, tags=tags, show_usage=manage, can_manage=manage, form=form),
    )


@require_http_methods(FORM_METHODS)
def tag_create(request, register):
    register, registers = _workspace(request, register)
    _require_manage(request, register)
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = tagging.tag_create(actor=request.user, register=register, name=form.cleaned_data["name"])
        except ValidationError as error:
            _errors_to(form, error, "name")
        else:
            messages.success(request, _("Tag %(name)s was added.") % {"name": tag.name})
            return redirect("segments:tag-list", register=register.slug)
    return render(request, "segments/tag_form.html", _context(register, registers, form=form))


@require_http_methods(FORM_METHODS)
def tag_rename(request, register, code):
    register, registers = _workspace(request, register)
    tag = selectors.tag_get_for_user(user=request.user, register=register, code=code)
    _require_manage(request, register)
    form = TagForm(request.POST or None, initial={"name": tag.name})
    if request.method == "POST" and form.is_valid():
        try:
            tagging.tag_rename(actor=request.user, tag=tag, name=form.cleaned_data["name"])
        except ValidationError as error:
            _errors_to(form, error, "name")
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("segments:tag-list", register=register.slug)
    return render(request, "segments/tag_form.html", _context(register, registers, form=form, tag=tag))


@require_http_methods(FORM_METHODS)
def tag_delete(request, register, code):
    register, registers = _workspace(request, register)
    tag = selectors.tag_get_for_user(user=request.user, register=register, code=code)
    _require_manage(request, register)
    if request.method == "POST":
        tagging.tag_delete(actor=request.user, tag=tag)
        messages.success(request, _("Tag %(name)s was deleted.") % {"name": tag.name})
        return redirect("segments:tag-list", register=register.slug)
    return render(request, "segments/tag_delete.html", _context(register, registers, tag=tag))


def _customer_rw(request, register, code):
    register, _registers = _workspace(request, register)
    customer = crm_selectors.customer_get_for_user_rw(user=request.user, register=register, code=code)
    return register, customer


@require_POST
def customer_tag_add(request, register, code):
    register, customer = _customer_rw(request, register, code)
    form = TagChoiceForm(request.POST, tags=selectors.tag_list(user=request.user, register=register))
    if not form.is_valid():
        messages.error(request, _("Choose a tag."))
        return redirect(customer)
    tag = selectors.tag_get_for_user(user=request.user, register=register, code=form.cleaned_data["tag"])
    try:
        tagging.tag_apply(actor=request.user, tag=tag, customer=customer)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(customer)


@require_POST
def customer_tag_remove(request, register, code, tag):
    register, customer = _customer_rw(request, register, code)
    tag = selectors.tag_get_for_user(user=request.user, register=register, code=tag)
    try:
        tagging.tag_remove(actor=request.user, tag=tag, customer=customer)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(customer)


def _contact_person_rw(request, register, code, person):
    register, customer = _customer_rw(request, register, code)
    return register, crm_selectors.contact_person_get_for_user(user=request.user, customer=customer, code=person)


@require_POST
def contact_person_tag_add(request, register, code, person):
    register, person = _contact_person_rw(request, register, code, person)
    form = TagChoiceForm(request.POST, tags=selectors.tag_list(user=request.user, register=register))
    if not form.is_valid():
        messages.error(request, _("Choose a tag."))
        return redirect(person.customer)
    tag = selectors.tag_get_for_user(user=request.user, register=register, code=form.cleaned_data["tag"])
    try:
        tagging.tag_apply(actor=request.user, tag=tag, contact_person=person)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(person.customer)


@require_POST
def contact_person_tag_remove(request, register, code, person, tag):
    register, person = _contact_person_rw(request, register, code, person)
    tag = selectors.tag_get_for_user(user=request.user, register=register, code=tag)
    try:
        tagging.tag_remove(actor=request.user, tag=tag, contact_person=person)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(person.customer)


@require_http_methods(FORM_METHODS)
def view_create(request, register):
    register, registers = _workspace(request, register)
    initial = {"query": selectors.query_from(request.GET) and urlencode(selectors.query_from(request.GET))}
    form = SavedViewForm(request.POST or None, register=register, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            view = services.saved_view_create(
                actor=request.user,
                register=register,
                name=data["name"],
                shared=data["shared"],
                query=data["query"],
                columns=data["columns"],
            )
        except ValidationError as error:
            _errors_to(form, error, "name")
        else:
            messages.success(request, _("The view %(name)s was saved.") % {"name": view.name})
            return redirect(_list_url(register, urlencode({"view": view.code})))
    return render(request, "segments/view_form.html", _context(register, registers, form=form))


@require_http_methods(FORM_METHODS)
def view_update(request, register, code):
    register, registers = _workspace(request, register)
    view = selectors.saved_view_get_own(user=request.user, register=register, code=code)
    initial = {"name": view.name, "shared": view.shared, "columns": view.columns}
    form = SavedViewForm(request.POST or None, register=register, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.saved_view_update(
                actor=request.user, view=view, name=data["name"], shared=data["shared"], columns=data["columns"]
            )
        except ValidationError as error:
            _errors_to(form, error, "name")
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(_list_url(register, urlencode({"view": view.code})))
    return render(request, "segments/view_form.html", _context(register, registers, form=form, view=view))


@require_http_methods(FORM_METHODS)
def view_delete(request, register, code):
    register, registers = _workspace(request, register)
    view = selectors.saved_view_get_own(user=request.user, register=register, code=code)
    if request.method == "POST":
        services.saved_view_delete(actor=request.user, view=view)
        messages.success(request, _("The view %(name)s was deleted.") % {"name": view.name})
        return redirect(_list_url(register))
    return render(request, "segments/view_delete.html", _context(register, registers, view=view))


def _bulk_form(request, register, data=None) -> BulkActionForm:
    return BulkActionForm(
        data,
        tags=selectors.tag_list(user=request.user, register=register),
        assignees=selectors.assignee_list(register=register),
    )


@require_http_methods(FORM_METHODS)
def bulk_start(request, register):
    register, registers = _workspace(request, register)
    _require_change(register)
    form = _bulk_form(request, register, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved_view = None
        if data["view"]:
            saved_view = selectors.saved_view_get_for_user(user=request.user, register=register, code=data["view"])
        codes = [] if data["all_matching"] else form.customer_codes()
        if data["action"] == ACTION_EXPORT:
            query = {**data["query"], **({"view": saved_view.code} if saved_view else {})}
            pairs = [*query.items(), *(("customer", code) for code in codes)]
            url = reverse("crm:customer-export", kwargs={"register": register.slug})
            return redirect(f"{url}?{urlencode(pairs)}" if pairs else url)
        try:
            action = services.bulk_action_start(
                actor=request.user,
                register=register,
                kind=data["action"],
                parameters=form.parameters(),
                customer_codes=codes or None,
                saved_view=saved_view if not codes else None,
                query=data["query"] if not codes and saved_view is None else None,
            )
        except ValidationError as error:
            _errors_to(form, error)
        else:
            return redirect("segments:bulk-detail", register=register.slug, code=action.code)
    return render(request, "segments/bulk_form.html", _context(register, registers, form=form))


@require_GET
def bulk_detail(request, register, code):
    register, registers = _workspace(request, register)
    action = selectors.bulk_action_get_for_user(user=request.user, register=register, code=code)
    running = action.state in (BulkAction.State.QUEUED, BulkAction.State.RUNNING)
    context = _context(register, registers, action=action, running=running, list_url=_list_url(register))
    if request.htmx:
        return render(request, "segments/_bulk_progress.html", context)
    return render(request, "segments/bulk_detail.html", context)
