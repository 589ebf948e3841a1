"""Background work of data-subject requests: sending letters, the outbox sweeper, reminders to confirm an
e-mail address, deadline reminders and expiry of answer downloads (scheduled by Celery beat).

The receivers at the end hand what the outbox announces after commit to Celery; apps.py imports this
module so that they are connected in every process."""

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.utils import timezone

from . import emails, selectors, services
from .models import Correspondence, DataSubjectRequest, RequestRegister, ResponsePackage
from .outbox import letter_queued, package_pdf_wanted

logger = logging.getLogger("privacy.tasks")  # the name operators filter on
# The enqueue warnings keep the loggers they had before the outbox moved out of emails and services.
letters_logger = logging.getLogger("privacy.emails")
packages_logger = logging.getLogger("privacy.services")

# A letter still unsent after this long was missed by its own task (broker
# down, worker lost) and is the sweeper's to send.
SWEEP_AFTER = datetime.timedelta(minutes=2)
# Give up on a letter after this many failed sends; staff see it unsent.
MAX_ATTEMPTS = 10


@shared_task(name="privacy.tasks.correspondence_send_task", acks_late=True)
def correspondence_send_task(correspondence_id: int) -> bool:
    return emails.correspondence_send(correspondence_id=correspondence_id)


@shared_task(name="privacy.tasks.correspondence_sweep")
def correspondence_sweep(older_than_seconds: int | None = None) -> int:
    """Send every letter that is still waiting; return how many were sent."""
    age = SWEEP_AFTER if older_than_seconds is None else datetime.timedelta(seconds=older_than_seconds)
    pending = Correspondence.objects.filter(
        sent_at__isnull=True, created_at__lte=timezone.now() - age, attempts__lt=MAX_ATTEMPTS
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(pending) if emails.correspondence_send(correspondence_id=pk))


@shared_task(name="privacy.tasks.confirmation_reminders_send")
def confirmation_reminders_send() -> int:
    """Remind each requester who has not confirmed their e-mail address, once, before the link expires; return how
    many were reminded. Running it again sends nothing more (the reminder is a letter of the request's outbox)."""
    due = list(selectors.request_confirmation_reminder_due().values_list("pk", flat=True))
    reminded = 0
    for request in DataSubjectRequest.objects.filter(pk__in=due).order_by("pk"):
        reminded += services.request_confirmation_remind(request=request) is not None
    return reminded


@shared_task(name="privacy.tasks.deadline_reminders_send")
def deadline_reminders_send() -> int:
    """E-mail each handler and owner the list of their overdue and near-due requests; return e-mails sent."""
    due = list(DataSubjectRequest.objects.open().filter(pk__in=_due_request_ids()).order_by("service_due_at"))
    if not due:
        return 0
    register_ids = set(RequestRegister.objects.filter(request__in=due).values_list("register_id", flat=True))
    sent = 0
    users = get_user_model().objects.filter(is_active=True, groups__register_role__register_id__in=register_ids)
    for user in users.distinct():
        mine = selectors.request_register_ids(user=user) & register_ids
        if not mine:
            continue
        theirs = [r for r in due if set(r.register_parts.values_list("register_id", flat=True)) & mine]
        emails.deadline_reminder_send(user=user, requests=theirs)
        sent += 1
    return sent


def _due_request_ids():
    horizon = timezone.now() + datetime.timedelta(days=selectors.NEAR_DUE_DAYS)
    return DataSubjectRequest.objects.open().filter(service_due_at__lte=horizon).values("pk")


@shared_task(name="privacy.tasks.package_pdf_render_task", acks_late=True)
def package_pdf_render_task(package_id: int) -> bool:
    return services.package_pdf_render(package_id=package_id)


@shared_task(name="privacy.tasks.package_pdf_sweep")
def package_pdf_sweep(older_than_seconds: int | None = None) -> int:
    """Render the PDFs their own task missed; return how many were rendered."""
    age = SWEEP_AFTER if older_than_seconds is None else datetime.timedelta(seconds=older_than_seconds)
    missing = ResponsePackage.objects.filter(
        pdf="", files_deleted_at__isnull=True, generated_at__lte=timezone.now() - age
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(missing) if services.package_pdf_render(package_id=pk))


@shared_task(name="privacy.tasks.packages_expire")
def packages_expire() -> int:
    return services.packages_expire()


@receiver(letter_queued, dispatch_uid="privacy.requests.tasks.letter_enqueue")
def letter_enqueue(sender, *, correspondence_id: int, **kwargs) -> None:
    try:
        correspondence_send_task.delay(correspondence_id)
    except Exception:
        # Broker down (kombu OperationalError and friends): the letter is safe
        # in the outbox and the sweeper will send it.
        letters_logger.warning("Letter %s left for the sweeper: the task broker is unavailable.", correspondence_id)


@receiver(package_pdf_wanted, dispatch_uid="privacy.requests.tasks.package_pdf_enqueue")
def package_pdf_enqueue(sender, *, package_id: int, **kwargs) -> None:
    try:
        package_pdf_render_task.delay(package_id)
    except Exception:
        # Broker down: the sweeper renders it.
        packages_logger.warning(
            "PDF of answer package %s left for the sweeper: the task broker is unavailable.", package_id
        )
