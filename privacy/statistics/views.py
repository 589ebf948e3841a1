"""Statistics pages and CSV: counts only, small cells suppressed."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from registers.access_log import log_access
from registers.selectors import register_get_for_owner

from .forms import StatisticsForm
from .selectors import MONTH, register_statistics, statistics_charts, statistics_csv_rows


def _statistics(request, register) -> tuple[StatisticsForm, dict]:
    form = StatisticsForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    granularity = data.get("period") or MONTH
    year = data.get("year") or timezone.localdate().year
    return form, register_statistics(register=register, granularity=granularity, year=year)


@require_GET
def statistics_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    form, statistics = _statistics(request, register)
    context = {"register": register, "form": form, "statistics": statistics, "charts": statistics_charts(statistics)}
    return render(request, "privacy/statistics_register.html", context)


@require_GET
def statistics_csv_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    _form, statistics = _statistics(request, register)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{register.slug}-statistics-{statistics["granularity"]}-{statistics["year"]}.csv"'
    )
    writer = csv.writer(response)
    writer.writerows(statistics_csv_rows(register=register, statistics=statistics))
    log_access(request, register, {"export": "statistics", "granularity": statistics["granularity"]})
    return response
