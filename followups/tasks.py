"""Scheduled work of follow-ups (see CELERY_BEAT_SCHEDULE in config/settings.py): the daily digest."""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from registers.models import UserProfile

from . import emails, selectors
from .models import DigestDelivery

logger = logging.getLogger(__name__)


def _language(user) -> str:
    language = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def digest_send(*, user, today) -> int:
    """Send the user's digest for `today` unless it was sent already; return how many follow-ups it listed."""
    followups = selectors.due_digest_list(user=user, today=today)
    if not followups:
        return 0
    try:
        with transaction.atomic():
            # The day's row is claimed first and the mail sent inside the same transaction: a second run (a
            # retried or doubled beat) waits on the unique key and then finds it taken; a mail that fails
            # rolls the claim back, so the next run tries again.
            DigestDelivery.objects.create(user=user, sent_on=today, followups=len(followups))
            emails.send_digest(user=user, followups=followups, today=today, language=_language(user))
    except IntegrityError:
        return 0
    return len(followups)


@shared_task(name="followups.tasks.digests_send")
def digests_send() -> dict[str, int]:
    """Mail each user who wants it the follow-ups due today or overdue: one e-mail a day at most."""
    today = timezone.localdate()
    users = (
        get_user_model()
        .objects.filter(is_active=True, followups__done_at__isnull=True, followups__due_on__lte=today)
        .exclude(email="")
        .exclude(profile__followup_digest=False)
        .exclude(pk__in=DigestDelivery.objects.filter(sent_on=today).values("user_id"))
        .distinct()
        .order_by("pk")
    )
    sent = failed = 0
    for user in users:
        try:
            if digest_send(user=user, today=today):
                sent += 1
        except Exception:
            # One mailbox refusing must not stop the others' digests; the next run retries this one.
            logger.exception("follow-up digest to user %s failed", user.pk)
            failed += 1
    return {"sent": sent, "failed": failed}
