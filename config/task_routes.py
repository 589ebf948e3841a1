"""The queue of each task: one queue per kind of work (settings.CELERY_QUEUES_BY_KIND), so that each kind has
workers of its own (docs/deploy.md) and a long PDF, import or purge never holds up a letter or the hourly work.

One table, by task name. A task it does not name goes to the default queue, and tests/registers/
test_task_routes.py fails until the table names it. An explicit queue (apply_async(queue=...), a periodic task's
own queue) still wins over the table.
"""

from django.conf import settings

TASK_KINDS = {
    # pdf: WeasyPrint, seconds per dozen pages and a few hundred megabytes for a long answer.
    "privacy.tasks.package_pdf_render_task": "pdf",
    "privacy.tasks.package_pdf_sweep": "pdf",
    # mail: letters, reminders, digests and campaigns, each sending through SMTP.
    "privacy.tasks.correspondence_send_task": "mail",
    "privacy.tasks.correspondence_sweep": "mail",
    "privacy.tasks.confirmation_reminders_send": "mail",
    "privacy.tasks.deadline_reminders_send": "mail",
    "registers.tasks.access_review_send_reminders": "mail",
    "openness.tasks.document_request_reminders": "mail",
    "openness.tasks.requester_tell": "mail",
    "followups.tasks.digests_send": "mail",
    "campaigns.tasks.campaign_send": "mail",
    "campaigns.tasks.campaigns_resume": "mail",
    # purge: deletions the retention periods and the erasure rules require, long and lock-guarded.
    "privacy.purge.purge_run_task": "purge",
    "privacy.tasks.packages_expire": "purge",
    "selfservice.tasks.identities_forget": "purge",
    "duplicates.tasks.merge_images_expire_nightly": "purge",
    "archive.tasks.files_sweep": "purge",
    # ingest: data read in from outside (mailboxes, drop folders, PRH), waiting on other servers.
    "archive.tasks.mailboxes_poll": "ingest",
    "archive.tasks.maildir_read": "ingest",
    "archive.tasks.recording_lists_read": "ingest",
    "campaigns.tasks.bounces_read": "ingest",
    "crm.tasks.company_register_refresh_nightly": "ingest",
    # import: batch work over a whole register that a user started or the night runs: imports, bulk actions and
    # the duplicate scan (after the night's imports and refresh).
    "imports.tasks.import_preview": "import",
    "imports.tasks.import_commit": "import",
    "segments.tasks.bulk_action_run": "import",
    "duplicates.tasks.duplicate_candidates_refresh_nightly": "import",
    # default: short bookkeeping, and the nightly backup and audit chain that nothing else waits for.
    "registers.tasks.memberships_sync": "default",
    "registers.tasks.access_review_open_due": "default",
    "registers.tasks.audit_chain_nightly": "default",
    "registers.backup.backup_task": "default",
    "privacy.tasks.restriction_lifts_advance": "default",
}


def route_task(name, args, kwargs, options, task=None, **kw):
    """Return the queue of the task's kind; the default queue for a task the table does not name."""
    return {"queue": settings.CELERY_QUEUES_BY_KIND[TASK_KINDS.get(name, "default")]}
