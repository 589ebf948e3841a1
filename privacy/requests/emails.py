"""Sending e-mails: the stored letters of the outbox (`privacy.requests.outbox`) and the deadline reminders.

Each letter is one template triplet `privacy/emails/<kind>_{subject.txt,
body.txt,body.html}`, rendered in the requester's language at sending time.
"""

import datetime
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from .models import Correspondence, DataSubjectRequest
from .tokens import confirm_token_make, download_token_make, status_token_make

logger = logging.getLogger("privacy.emails")  # the name operators filter on


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def status_url(request: DataSubjectRequest) -> str:
    return site_url(reverse("privacy:status", kwargs={"token": status_token_make(request)}))


def _context(correspondence: Correspondence) -> dict:
    request = correspondence.request
    context = {
        "request": request,
        "correspondence": correspondence,
        "status_url": status_url(request),
        "organisation": request.organisation,
    }
    if correspondence.kind in {Correspondence.Kind.CONFIRM_EMAIL, Correspondence.Kind.CONFIRM_REMINDER}:
        # Signed now: the reminder's link works for its own 48 hours, whatever is left of the first one's.
        context["confirm_url"] = site_url(reverse("privacy:confirm", kwargs={"token": confirm_token_make(request)}))
    if correspondence.kind == Correspondence.Kind.RESTRICTION_LIFT_NOTICE:
        # The wait starts when this e-mail is sent (privacy.rights.restriction_lift), so its end is counted from today.
        days = getattr(settings, "RESTRICTION_LIFT_NOTICE_DAYS", 14)
        context["lift_on"] = timezone.localdate() + datetime.timedelta(days=days)
        context["registers"] = [part.register.name for part in request.register_parts.select_related("register")]
    if correspondence.package is not None:
        context["download_url"] = site_url(
            reverse("privacy:download", kwargs={"token": download_token_make(correspondence.package)})
        )
        context["package"] = correspondence.package
    return context


def letter_message_id(correspondence: Correspondence) -> str:
    """Return the letter's Message-ID, the same on every try of the letter.

    A worker killed after the mail server took the letter but before the commit that records it sends it again
    when the task comes back (no send can be both certain and single); the same Message-ID lets the recipient's
    mail system recognise the second copy.
    """
    key = salted_hmac("privacy.letter", str(correspondence.pk)).hexdigest()[:32]
    return f"<{key}@{urlsplit(settings.SITE_URL).hostname or DNS_NAME}>"


def correspondence_send(*, correspondence_id: int) -> bool:
    """Send one stored letter unless it was sent already; return whether it was sent now."""
    with transaction.atomic():
        correspondence = (
            Correspondence.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("request__organisation", "package")
            .filter(pk=correspondence_id, sent_at__isnull=True)
            .first()
        )
        if correspondence is None:
            return False
        request = correspondence.request
        base = f"privacy/emails/{correspondence.kind}"
        with translation.override(request.language):
            context = _context(correspondence)
            subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
            body = render_to_string(f"{base}_body.txt", context)
            html = render_to_string(f"{base}_body.html", context)
        email = EmailMultiAlternatives(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [request.requester_email],
            headers={"Message-ID": letter_message_id(correspondence)},
        )
        email.attach_alternative(html, "text/html")
        correspondence.attempts += 1
        try:
            email.send()
        except Exception as error:
            correspondence.last_error = type(error).__name__
            correspondence.save(update_fields=["attempts", "last_error"])
            logger.warning("Sending letter %s failed: %s", correspondence.pk, type(error).__name__)
            return False
        correspondence.sent_at = timezone.now()
        correspondence.last_error = ""
        correspondence.save(update_fields=["attempts", "last_error", "sent_at"])
        return True


def deadline_reminder_send(*, user, requests: list[DataSubjectRequest]) -> None:
    """Remind a handler or owner of their overdue and near-due requests (references only, no personal data)."""
    if not user.email or not requests:
        return
    context = {"user": user, "requests": requests, "queue_url": site_url(reverse("privacy:queue"))}
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("privacy/emails/deadline_reminder_subject.txt", context).split())
        body = render_to_string("privacy/emails/deadline_reminder_body.txt", context)
        html = render_to_string("privacy/emails/deadline_reminder_body.html", context)
    email = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    email.attach_alternative(html, "text/html")
    email.send()
