from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import MONTH, YEAR


class StatisticsForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Per"), choices=[(MONTH, _("month")), (YEAR, _("year"))], required=False, initial=MONTH
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
