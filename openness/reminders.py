"""Reminders to the handlers as the clock of 14 § runs out: on day 10 and day 12 of the two weeks (4 and 2 days before
the deadline, whichever deadline the request has). Each is sent once, recorded as an event; the e-mail names the
diary number, the deadline and the link, never the requester or what they asked for."""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from registers import roles
from registers.models import Membership, Register, UserProfile

from .models import DocumentRequest, DocumentRequestEvent
from .workflow import REMINDER_DAYS_BEFORE

HANDLER_ROLES = [role for role, perms in roles.ROLE_PERMISSIONS.items() if roles.HANDLE_REQUESTS in perms]


def _handlers(request: DocumentRequest) -> list:
    registers = list(request.registers.all()) or list(Register.objects.filter(organisation=request.organisation_id))
    memberships = Membership.objects.active().filter(register__in=registers, role__in=HANDLER_ROLES)
    users = {m.user for m in memberships.select_related("user") if m.user.is_active and m.user.email}
    return sorted(users, key=lambda user: user.pk)


def _threshold(request: DocumentRequest, now: datetime.datetime) -> int | None:
    """The reminder due today (4 or 2 days before the last day, in local days), or None."""
    days_left = (timezone.localtime(request.due_at).date() - timezone.localtime(now).date()).days
    due = [days for days in REMINDER_DAYS_BEFORE if days_left <= days]
    return min(due) if due and now < request.due_at else None


def document_request_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Send the reminders that are due; return how many requests were reminded of."""
    now = now or timezone.now()
    latest = now + datetime.timedelta(days=max(REMINDER_DAYS_BEFORE) + 1)
    sent = 0
    candidates = DocumentRequest.objects.filter(
        state__in=DocumentRequest.CLOCK_STATES, due_at__gt=now, due_at__lte=latest
    )
    for pk in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            request = DocumentRequest.objects.select_for_update().get(pk=pk)
            threshold = _threshold(request, now)
            if threshold is None or request.state not in DocumentRequest.CLOCK_STATES:
                continue
            done = request.events.filter(action=DocumentRequestEvent.Action.REMINDER, payload__days=threshold)
            if done.exists():
                continue
            recipients = _handlers(request)
            _send(request, recipients)
            DocumentRequestEvent.objects.create(
                request=request,
                at=now,
                action=DocumentRequestEvent.Action.REMINDER,
                from_state=request.state,
                to_state=request.state,
                payload={"days": threshold, "recipients": len(recipients)},
            )
            sent += 1
    return sent


def _send(request: DocumentRequest, recipients: list) -> None:
    link = f"{settings.SITE_URL}{reverse('openness:detail', kwargs={'code': request.code})}"
    languages = dict(UserProfile.objects.filter(user__in=recipients).values_list("user_id", "language"))
    for user in recipients:
        with translation.override(languages.get(user.pk) or settings.LANGUAGE_CODE):
            due = formats.date_format(timezone.localtime(request.due_at).date(), "SHORT_DATE_FORMAT")
            send_mail(
                _("Document request %(number)s must be answered by %(date)s")
                % {"number": request.diary_number, "date": due},
                _("The document request %(number)s must be answered by %(date)s (Act 621/1999 14 §).\n\n%(link)s\n")
                % {"number": request.diary_number, "date": due, "link": link},
                None,
                [user.email],
            )
