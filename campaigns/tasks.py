"""The campaigns' Celery tasks: the send, its resumption by the beat, and the bounce mailboxes' read."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="campaigns.tasks.campaign_send")
def campaign_send(campaign_pk: int) -> dict:
    """Send a queued campaign at its rate (campaigns.sending); a second run while one sends does nothing."""
    from .sending import campaign_send_run

    return campaign_send_run(campaign_pk)


@shared_task(name="campaigns.tasks.campaigns_resume")
def campaigns_resume() -> int:
    """Run the send again for every campaign queued or being sent; one still sent by a live worker is locked."""
    from .sending import campaigns_to_resume

    pks = campaigns_to_resume()
    for pk in pks:
        campaign_send.delay(pk)
    return len(pks)


@shared_task(name="campaigns.tasks.bounces_read")
def bounces_read() -> dict:
    """Read every bounce mailbox in use (beat: every 5 minutes)."""
    from .bounces import bounce_mailboxes_read

    return bounce_mailboxes_read()
