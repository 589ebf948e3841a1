"""The follow-up digest e-mail, sent by one function in the user's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def send_digest(*, user, followups: list, today, language: str) -> None:
    """Mail the user the list of their follow-ups due today or overdue, each with a link to its customer.

    The notes stay in the system: a mailbox keeps what it receives beyond the register's retention and erasure.
    """
    site = settings.SITE_URL.rstrip("/")
    rows = [
        {"followup": followup, "link": site + followup.customer.get_absolute_url(), "overdue": followup.due_on < today}
        for followup in followups
    ]
    context = {"user": user, "rows": rows, "today": today, "mine_link": site + reverse("followups:mine")}
    with translation.override(language):
        subject = " ".join(render_to_string("followups/emails/digest_subject.txt", context).split())
        text = render_to_string("followups/emails/digest_body.txt", context)
        html = render_to_string("followups/emails/digest_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    message.send()
