from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompaniesConfig(AppConfig):
    """The national company register (PRH open data): look-ups and the daily file, no models of its own."""

    name = "companies"
    verbose_name = _("Company register")
