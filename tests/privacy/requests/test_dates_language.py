"""Swedish pages and letters show dates as Finland-Swedes write them (30.11.2026), not ISO (config/formats)."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from privacy.requests import tokens, workflow
from privacy.requests.models import DataSubjectRequest

from .. import steps

pytestmark = pytest.mark.django_db


def test_the_swedish_status_page_shows_finland_swedish_dates(client, register_a, handler_a):
    request = steps.in_progress(register_a, handler_a, language="sv")
    received = datetime.datetime(2026, 10, 30, 10, tzinfo=datetime.UTC)
    due = datetime.datetime(2026, 11, 30, 10, tzinfo=datetime.UTC)
    DataSubjectRequest.objects.filter(pk=request.pk).update(received_at=received, legal_due_at=due, service_due_at=due)
    page = client.get(
        reverse("privacy:status", kwargs={"token": tokens.status_token_make(request)}), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "30.11.2026" in page
    assert "30.10.2026" in page
    assert "2026-11-30" not in page
    assert "2026-10-30" not in page


def test_a_swedish_letter_shows_finland_swedish_dates(register_a, handler_a):
    request = steps.in_progress(register_a, handler_a, language="sv")
    steps.send_letters()
    workflow.request_extend(request=request, actor=handler_a, reason="Tre arkiv")
    letter = steps.send_letters()[-1]
    request.refresh_from_db()
    due = timezone.localtime(request.legal_due_at).date()
    assert f"{due.day}.{due.month}.{due.year}" in letter.body
    assert due.isoformat() not in letter.body
    assert f"{due.day}.{due.month}.{due.year}" in letter.alternatives[0][0]


@pytest.mark.parametrize(("language", "shown"), [("sv", "1.2.2027"), ("fi", "1.2.2027")])
def test_an_iso_date_kept_as_text_shows_in_the_readers_format(language, shown):
    # The answer's JSON keeps ISO dates; its letter shows them as the reader writes dates.
    template = Template("{% load privacy_tags %}{{ day|iso_date }} {{ other|iso_date }}")
    with translation.override(language):
        assert template.render(Context({"day": "2027-02-01", "other": "2027-02-30"})) == f"{shown} 2027-02-30"
