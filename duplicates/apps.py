from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuplicatesConfig(AppConfig):
    """Likely duplicate customers found, merged with their whole history, and merges undone (issue 16)."""

    name = "duplicates"
    verbose_name = _("Duplicates")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # The before-images repeat the merged records' personal data, which their own trail already holds.
        auditlog.register(models.CustomerMerge, exclude_fields=["images", "moved", "updated_at"])
        auditlog.register(models.DuplicateCandidate, include_fields=["state", "dismissed_by", "dismissed_at"])

        from privacy.rights.erasure import customer_data_erased

        customer_data_erased.connect(_erase_images, dispatch_uid="duplicates.merge_images_erase")


def _erase_images(sender, customer_pks, **kwargs) -> None:
    from .services import merge_images_erase

    merge_images_erase(customer_pks=customer_pks)
