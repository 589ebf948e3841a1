"""The PDF evidence of an access review reads in the reader's language: labels and dates, not stored codes."""

import html as html_lib
import re

import pytest
import weasyprint
from django.utils import formats, timezone, translation

from registers import access_review as ar
from registers.models import AccessReview, AccessReviewItem, Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(register_a, owner_a, staff_a, main_user):
    review = ar.access_review_open(register=register_a, actor=owner_a)
    for item in review.items.all():
        decider = main_user if item.user_id == owner_a.pk else owner_a
        ar.access_review_item_decide(item=item, decision="keep", reason="", actor=decider)
    return ar.access_review_complete(review=review, actor=owner_a)


@pytest.fixture
def pdf_source(monkeypatch):
    """Keep the HTML the view hands to WeasyPrint: the text of the PDF, before it is compressed."""
    sources = []
    real = weasyprint.HTML

    def keep(*args, string, **kwargs):
        sources.append(string)
        return real(*args, string=string, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", keep)
    return sources


def text_of(source: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", source.split("<body>", 1)[1])).split())


def label(language: str, choice) -> str:
    with translation.override(language):
        return str(choice.label)


def test_the_evidence_names_statuses_decisions_and_roles_in_finnish(client, owner_a, completed, pdf_source):
    client.force_login(owner_a)
    response = client.get(f"{completed.get_absolute_url()}evidence.pdf", HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = text_of(pdf_source[-1])
    # The history says what moved, in words: not "pending → keep" or "open → completed".
    pending, keep = label("fi", AccessReviewItem.Decision.PENDING), label("fi", AccessReviewItem.Decision.KEEP)
    assert f"{pending} → {keep}" in text
    opened, done = label("fi", AccessReview.Status.OPEN), label("fi", AccessReview.Status.COMPLETED)
    assert f"\u2013 → {opened}" in text
    assert f"{opened} → {done}" in text
    for code in ("pending → keep", "open → completed", "→ open"):
        assert code not in text
    # Roles by their Finnish names, the day each began in the Finnish date format.
    assert label("fi", Role.OWNER) in text
    starts_on = Membership.objects.filter(user=owner_a).first().starts_on
    with translation.override("fi"):
        assert formats.date_format(starts_on, "SHORT_DATE_FORMAT") in text
    assert starts_on.isoformat() not in text


def test_the_evidence_in_swedish_uses_finland_swedish_dates(client, owner_a, completed, pdf_source):
    client.force_login(owner_a)
    client.get(f"{completed.get_absolute_url()}evidence.pdf", HTTP_ACCEPT_LANGUAGE="sv")
    text = text_of(pdf_source[-1])
    completed_on = timezone.localtime(completed.completed_at).date()
    assert f"{completed_on.day}.{completed_on.month}.{completed_on.year}" in text
    assert completed_on.isoformat() not in text
    assert f"{label('sv', AccessReviewItem.Decision.PENDING)} → {label('sv', AccessReviewItem.Decision.KEEP)}" in text
