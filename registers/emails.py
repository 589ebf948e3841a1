"""The e-mails of account and access management; each is sent by one function.

Callers send them through `transaction.on_commit`, so a rolled-back change never
announces itself.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def _send(*, template: str, to: list[str], context: dict, language: str | None = None) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"registers/emails/{template}_subject.txt", context).split())
        text = render_to_string(f"registers/emails/{template}_body.txt", context)
        html = render_to_string(f"registers/emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


def send_account_created(*, user, link: str, created_by) -> None:
    """Tell a new user their username and give the one-time link to choose a password."""
    if user.email:
        _send(
            template="account_created",
            to=[user.email],
            context={"user": user, "link": link, "created_by": created_by, "site_url": settings.SITE_URL},
        )


def send_access_review_reminder(*, review, recipients: list) -> None:
    """Remind the register owners that an access review waits for their decisions."""
    link = settings.SITE_URL.rstrip("/") + review.get_absolute_url()
    for owner in recipients:
        if owner.email:
            _send(
                template="access_review_reminder",
                to=[owner.email],
                context={"review": review, "register": review.register, "owner": owner, "link": link},
            )


def send_audit_chain_broken(*, recipients: list[str], problems: list[str]) -> None:
    """Tell the main users that the nightly check of the audit trail's chains failed, naming the first breaks."""
    if recipients:
        _send(template="audit_chain_broken", to=recipients, context={"problems": problems})
