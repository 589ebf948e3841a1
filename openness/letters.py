"""The letters of the refusal path, in the requester's language: the official's refusal with the question of 14(3) §,
and the written decision with its instructions for appeal to the administrative court (33 §)."""

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from privacy.requests.access_package import render_pdf

from .models import DocumentRequest

REFUSAL, DECISION, EXTENSION = "refusal", "decision", "extension"
SUBJECTS = {
    REFUSAL: _("Your request for documents %(number)s is refused"),
    DECISION: _("Decision on your request for documents %(number)s"),
    EXTENSION: _("Your request for documents %(number)s: the answer takes longer"),
}
LETTER_TEXT = _("The letter on your request for documents %(number)s is attached.")
EXTENSION_TEXT = _(
    "We answer your request for documents %(number)s by %(date)s at the latest, as the Act on the Openness of "
    "Government Activities allows for a request that needs more time (section 14(4)): %(reason)s."
)


def letter_kinds(request: DocumentRequest) -> list[str]:
    """The letters the request has: a refusal once refused, a decision once decided."""
    kinds = []
    if request.refusal_reason:
        kinds.append(REFUSAL)
    if request.decided_at is not None:
        kinds.append(DECISION)
    return kinds


def letter_html(request: DocumentRequest, kind: str) -> str:
    with translation.override(request.language):
        return render_to_string(
            "openness/letter.html",
            {"dsr": request, "kind": kind, "today": timezone.localdate(), "decided_by": request.decided_by},
        )


def letter_pdf(request: DocumentRequest, kind: str) -> bytes:
    return render_pdf(letter_html(request, kind))


def requester_tell(request: DocumentRequest, kind: str) -> bool:
    """E-mail the requester the extension of the time, the refusal or the decision, in their language (the letters
    as PDF); False when the requester gave no e-mail address (the handler then sends the PDF by post)."""
    if not request.requester_email:
        return False
    with translation.override(request.language):
        subject = str(SUBJECTS[kind]) % {"number": request.diary_number}
        if kind == EXTENSION:
            due = formats.date_format(timezone.localtime(request.due_at).date(), "SHORT_DATE_FORMAT")
            body = str(EXTENSION_TEXT) % {
                "number": request.diary_number,
                "date": due,
                "reason": request.get_extension_reason_display(),
            }
        else:
            body = str(LETTER_TEXT) % {"number": request.diary_number}
        message = EmailMessage(subject, body, to=[request.requester_email])
        if kind != EXTENSION:
            message.attach(f"{request.diary_number}-{kind}.pdf", letter_pdf(request, kind), "application/pdf")
        message.send()
    return True
