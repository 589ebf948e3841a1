from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Customers brought in from files: preview, commit in batches, undo (issue 15)."""

    name = "imports"
    verbose_name = _("Imports")
