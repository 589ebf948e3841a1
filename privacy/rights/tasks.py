"""Background work of the rights of arts. 16-21: restrictions lifted after their notice (GDPR 18(3)), by Celery beat."""

from celery import shared_task

from . import restriction_lift


@shared_task(name="privacy.tasks.restriction_lifts_advance")
def restriction_lifts_advance() -> dict[str, int]:
    """Start the wait of the lifts whose notice was e-mailed, and lift the restrictions whose wait is over."""
    return restriction_lift.restriction_lifts_advance()
