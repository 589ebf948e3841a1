"""Public register descriptions (no login), their owner-side preview and publication, and the
record of processing activities (GDPR art. 30) for the data protection officer."""

import datetime
import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .description import (
    description_changed_fields,
    description_content_on,
    description_dates,
    description_missing,
    description_publish,
    description_sections,
    description_snapshot,
    description_title,
    description_versions,
)
from .fields import PersonalCharFormField
from .models import Register
from .processing_records import processing_record_rows, processing_records
from .selectors import register_get_for_owner, register_list_for_owner


class DescriptionDateForm(forms.Form):
    # The bounds keep the day after `on` and its midnight in UTC within what datetime can hold.
    on = forms.DateField(
        required=False,
        validators=[MinValueValidator(datetime.date(1900, 1, 1)), MaxValueValidator(datetime.date(9000, 12, 31))],
    )


class DescriptionPublishForm(forms.Form):
    note = PersonalCharFormField(label=gettext_lazy("What changed"), max_length=500, required=False)


def _language() -> str:
    return (get_language() or "fi")[:2]


def _in_force(request, register: Register):
    form = DescriptionDateForm(request.GET)
    if not form.is_valid():
        raise Http404
    on = form.cleaned_data["on"]
    content, version = description_content_on(register, on)
    if content is None:
        raise Http404(_("No description of this register was in force on that date."))
    return content, version, on


def _context(register: Register, content: dict, version, on: datetime.date | None) -> dict:
    language = _language()
    return {
        "register": register,
        "title": description_title(content, language),
        "sections": description_sections(content, language),
        "dates": description_dates(content),
        "version": version,
        "on": on,
        "versions": description_versions(register).order_by("-published_at"),
    }


@login_not_required
@require_GET
def description_detail(request, slug):
    register = get_object_or_404(Register.objects.select_related("organisation"), slug=slug)
    content, version, on = _in_force(request, register)
    return render(request, "registers/description_detail.html", _context(register, content, version, on))


@login_not_required
@require_GET
def description_pdf(request, slug):
    from weasyprint import HTML  # Imported on use: it loads Pango, which the rest of the app never needs.

    register = get_object_or_404(Register.objects.select_related("organisation"), slug=slug)
    content, version, on = _in_force(request, register)
    html = render_to_string("registers/description_print.html", _context(register, content, version, on), request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{register.slug}-{_language()}.pdf"'
    return response


@require_GET
def description_preview(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    content = description_snapshot(register)
    published, version = description_content_on(register)
    changed = description_changed_fields(published if version else None, content)
    context = _context(register, content, None, None)
    context.update(
        {
            "preview": True,
            "published_version": version,
            "changed": changed,
            "missing": description_missing(content),
            "form": DescriptionPublishForm(),
        }
    )
    return render(request, "registers/description_preview.html", context)


@require_POST
def description_publish_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    form = DescriptionPublishForm(request.POST)
    if form.is_valid():
        try:
            version = description_publish(actor=request.user, register=register, note=form.cleaned_data["note"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("descriptions:preview", slug=register.slug)
        messages.success(
            request, _("Version %(number)s of the description was published.") % {"number": version.number}
        )
        return redirect("descriptions:detail", slug=register.slug)
    return redirect("descriptions:preview", slug=register.slug)


@require_GET
def processing_records_export(request):
    registers = register_list_for_owner(user=request.user)
    if not registers.exists():
        raise Http404
    data = processing_records(
        registers=registers.order_by("slug"), base_url=request.build_absolute_uri(reverse("home"))
    )
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="records-of-processing-{stamp}.json"'
    return response


def _records_context(request) -> dict:
    registers = register_list_for_owner(user=request.user)
    if not registers.exists():
        raise Http404
    return {
        "records": [
            {"register": register, "rows": processing_record_rows(register)}
            for register in registers.select_related("organisation", "parent").order_by("organisation__name_fi", "slug")
        ],
        "generated_at": timezone.now(),
    }


@require_GET
def processing_records_table(request):
    """The art. 30 record as a readable page: one table per register, for owners and main users."""
    return render(request, "registers/processing_records.html", _records_context(request))


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"The record of processing loads no outside resources: {url}")


@require_GET
def processing_records_pdf(request):
    from weasyprint import HTML  # Imported on use: it loads Pango, which the rest of the app never needs.

    html = render_to_string("registers/processing_records_print.html", _records_context(request), request)
    # The template inlines its styles; nothing is fetched while rendering.
    pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="records-of-processing-{stamp}-{_language()}.pdf"'
    return response
