"""The letters of the refusal path, in the requester's language: the official's refusal with the question of 14(3) §,
and the written decision with its instructions for appeal to the administrative court (33 §)."""

from django.template.loader import render_to_string
from django.utils import timezone, translation

from privacy.requests.access_package import render_pdf

from .models import DocumentRequest

REFUSAL, DECISION = "refusal", "decision"


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
