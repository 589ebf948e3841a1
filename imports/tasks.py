"""Background work of imports: the commit of a batch, chunk by chunk.

`acks_late` (the project's default, set again here because the task relies on it): a worker killed mid-run
leaves the message unacknowledged, the broker delivers it again, and the second run resumes after the last
committed chunk (`services.import_commit_run` checks the stored progress under a row lock, so no chunk is
applied twice).
"""

from celery import shared_task

from . import services


@shared_task(name="imports.tasks.import_commit", acks_late=True, reject_on_worker_lost=True)
def import_commit(batch_id: int) -> str | None:
    """Commit or resume the import batch; return its state."""
    batch = services.import_commit_run(batch_id=batch_id)
    return batch.state if batch is not None else None
