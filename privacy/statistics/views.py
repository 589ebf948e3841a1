"""Statistics pages and CSV: counts only, small cells suppressed."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from registers import replica
from registers.access_log import log_access
from registers.selectors import register_get_for_owner

from .charts import statistics_charts
from .forms import StatisticsForm
from .selectors import register_statistics, register_statistics_readable, statistics_csv_rows


def _statistics(request, register) -> tuple[StatisticsForm, dict]:
    this_year = timezone.localdate().year
    # Unbound on the first visit, so that the year field shows the year the figures are for.
    form = StatisticsForm(request.GET or None, initial={"year": this_year})
    data = form.cleaned_data if form.is_valid() else {}
    year = data.get("year") or this_year
    if not data.get("period"):
        return form, register_statistics_readable(register=register, year=year)
    return form, register_statistics(register=register, granularity=data["period"], year=year)


@require_GET
@replica.reads_from_replica
def statistics_view(request, slug):
    register = register_get_for_owner(user=request.user, slug=slug)
    form, statistics = _statistics(request, register)
    context = {"register": register, "form": form, "statistics": statistics, "charts": statistics_charts(statistics)}
    return render(request, "privacy/statistics_register.html", context)


@require_GET
@replica.reads_from_replica
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
