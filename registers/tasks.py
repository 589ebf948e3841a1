"""Scheduled work of the registers app (see CELERY_BEAT_SCHEDULE in config/settings.py).

Each task only calls a service, so the same work can be run and tested
without a broker.
"""

from celery import shared_task

from . import access_review, services


@shared_task(name="registers.tasks.memberships_sync")
def memberships_sync() -> dict[str, int]:
    """Start roles whose start date has come and end those past their end date."""
    return services.memberships_sync()


@shared_task(name="registers.tasks.access_review_open_due")
def access_review_open_due() -> dict[str, int]:
    """Open the yearly access review of every register that is due one."""
    opened = access_review.access_reviews_open_due()
    return {"opened": len(opened)}


@shared_task(name="registers.tasks.access_review_send_reminders")
def access_review_send_reminders() -> dict[str, int]:
    """Remind owners of access reviews that are due soon or overdue."""
    return {"reviews": access_review.access_reviews_send_reminders()}


@shared_task(name="registers.tasks.audit_chain_nightly")
def audit_chain_nightly() -> dict[str, int]:
    """Anchor the audit trail's chains outside the database and verify them; main users hear of a break."""
    from . import audit_chain

    return audit_chain.audit_chain_nightly()
