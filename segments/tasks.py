"""Bulk actions over settings.BULK_INLINE_MAX rows run here, step by step, reporting their progress."""

from celery import shared_task

from .models import BulkAction
from .services import bulk_action_run as run


@shared_task(name="segments.tasks.bulk_action_run")
def bulk_action_run(pk: int) -> dict:
    """Run a queued bulk action (segments.services.bulk_action_start queues it after its commit)."""
    action = BulkAction.objects.filter(pk=pk).first()
    if action is None:
        return {"state": "missing"}
    action = run(action=action)
    return {"state": action.state, "total": action.total, "changed": action.changed}
