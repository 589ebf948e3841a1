"""Background work of imports: the preview of a batch, and its commit chunk by chunk.

`acks_late` (the project's default, set again here because the tasks rely on it): a worker killed mid-run
leaves the message unacknowledged, the broker delivers it again, and the second run resumes after the last
committed chunk (`services.import_commit_run` checks the stored progress under a row lock, so no chunk is
applied twice). A preview writes nothing until its end, so a second delivery simply runs it again.
"""

from celery import shared_task

from . import services


@shared_task(name="imports.tasks.import_preview", acks_late=True, reject_on_worker_lost=True)
def import_preview(batch_id: int, token: str, language: str | None = None) -> str | None:
    """Preview the import batch for the run `token` names and keep the result; return the batch's state."""
    batch = services.import_preview_run(batch_id=batch_id, token=token, language=language)
    return batch.state if batch is not None else None


@shared_task(name="imports.tasks.import_commit", acks_late=True, reject_on_worker_lost=True)
def import_commit(batch_id: int) -> str | None:
    """Commit or resume the import batch; return its state."""
    batch = services.import_commit_run(batch_id=batch_id)
    return batch.state if batch is not None else None
