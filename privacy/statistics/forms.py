from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import MONTH, QUARTER, YEAR

AUTOMATIC = ""


class StatisticsForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Per"),
        choices=[
            (AUTOMATIC, _("automatic (the finest grouping that hides few figures)")),
            (MONTH, _("month")),
            (QUARTER, _("quarter")),
            (YEAR, _("year")),
        ],
        required=False,
        initial=AUTOMATIC,
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
