"""Background work of duplicates: the nightly refresh of likely duplicates, and merges' expired before-images."""

import logging

from celery import shared_task

from registers.models import Register

from .detection import duplicate_candidates_refresh
from .services import merge_images_expire

logger = logging.getLogger(__name__)


@shared_task(name="duplicates.tasks.duplicate_candidates_refresh_nightly", ignore_result=True)
def duplicate_candidates_refresh_nightly() -> dict[str, dict]:
    """Refresh the open duplicate candidates of every customer register, one transaction per register."""
    results = {}
    for register in Register.objects.filter(kind=Register.Kind.CUSTOMER).order_by("pk").iterator():
        result = duplicate_candidates_refresh(register=register)
        logger.info("Duplicate candidates of register %s refreshed: %s", register.slug, result)
        results[register.slug] = vars(result)
    return results


@shared_task(name="duplicates.tasks.merge_images_expire_nightly", ignore_result=True)
def merge_images_expire_nightly() -> int:
    """Drop the before-images of merges past their undo window: they hold the merged records' old values."""
    expired = merge_images_expire()
    logger.info("Before-images of %s merges past their undo window dropped", expired)
    return expired
