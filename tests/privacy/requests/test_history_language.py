"""A request's history speaks the reader's language, whoever caused each step and in whatever language.

The trail stores codes and identifiers; what a person typed stays as typed.
"""

import datetime
import html as html_lib
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from privacy.requests import services
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.requests.workflow import request_transition

from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State
Note = RequestEvent.Note

# What services.py used to write into `reason`, in English whatever the reader's language.
OLD_SYSTEM_TEXTS = [
    "e-mail confirmed",
    "recorded by staff",
    "oral access request answered on site",
    "withdrawn by the requester",
    "answer prepared",
    "answer approved",
    "note of the approver added",
    "repeat of DSR-",
]


def history(client, request, language: str) -> list[str]:
    """The lines of the request page's history as a reader of `language` sees them."""
    page = client.get(
        reverse("privacy:request-detail", kwargs={"code": request.code}), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    section = page.split('id="events-heading"', 1)[1].split("</ol>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, flags=re.S)
    return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def worded(language: str, label) -> str:
    with translation.override(language):
        return str(label)


def translated(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def assert_speaks(lines: list[str], language: str) -> None:
    text = "\n".join(lines)
    for old in OLD_SYSTEM_TEXTS:
        # An English source text may show only where the language's catalogue words it the same.
        if translated(language, old) != old or old.startswith("repeat of"):
            assert old not in text, f"{old!r} in {language}: {text}"
    for line in lines:
        # No empty detail: "letter queued: ·" said nothing about the letter.
        assert not re.search(r":\s*·", line), line
        assert not line.rstrip().endswith(":"), line


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_request_walked_through_the_services_reads_in_the_readers_language(
    client, register_a, handler_a, owner_a, language
):
    # The requester writes in the other language: the reader's choice wins.
    request = steps.answered(register_a, handler_a, owner_a, language="sv" if language == "fi" else "fi")
    client.force_login(handler_a)
    lines = history(client, request, language)
    assert_speaks(lines, language)
    text = "\n".join(lines)
    # The intake channel, the identification and the notes are worded now, in the reader's language.
    assert worded(language, DataSubjectRequest.Channel.WEB.label) in text
    assert worded(language, DataSubjectRequest.IdentityMethod.KNOWN_EMAIL.label) in text
    for note in (Note.EMAIL_CONFIRMED, Note.ANSWER_PREPARED, Note.ANSWER_APPROVED):
        assert worded(language, note.label) in text
    # Each queued letter says which letter, in the requester's language.
    letter_lines = [line for line in lines if worded(language, RequestEvent.Action.LETTER_QUEUED.label) in line]
    assert len(letter_lines) == request.correspondence.count() == 3
    requester_language = worded(language, DataSubjectRequest.Language(request.language).label)
    assert f"{worded(language, Correspondence.Kind.ANSWER_READY.label)} ({requester_language})" in text
    # Nothing the system said is stored as text: only codes, read back in any language.
    assert not request.events.exclude(reason="").exists()


def test_staff_intake_answered_on_site_and_a_withdrawal_store_codes_not_words(client, register_a, handler_a):
    # The handler works in Swedish; the trail keeps no Swedish for a Finnish reader.
    with translation.override("sv"):
        recorded = services.request_intake(
            actor=handler_a,
            registers=[register_a],
            data={
                "kind": DataSubjectRequest.Kind.ACCESS,
                "channel": DataSubjectRequest.Channel.IN_PERSON,
                "requester_name": "Anna Asiakas",
                "delivery": DataSubjectRequest.Delivery.IN_PERSON,
                "identity_method": DataSubjectRequest.IdentityMethod.IN_PERSON_ID,
                "answer_now": True,
            },
        )
    withdrawn = services.request_withdraw_by_requester(request=steps.confirmed(register_a))
    assert not RequestEvent.objects.exclude(reason="").exists()
    notes = set(RequestEvent.objects.values_list("payload__note", flat=True))
    assert {Note.RECORDED_BY_STAFF, Note.ANSWERED_ON_SITE, Note.WITHDRAWN_BY_REQUESTER} <= notes
    client.force_login(handler_a)
    recorded_lines = history(client, recorded, "fi")
    assert_speaks(recorded_lines, "fi")
    assert worded("fi", DataSubjectRequest.Channel.IN_PERSON.label) in "\n".join(recorded_lines)
    assert worded("fi", Note.ANSWERED_ON_SITE.label) in "\n".join(recorded_lines)
    withdrawn_lines = history(client, withdrawn, "fi")
    assert_speaks(withdrawn_lines, "fi")
    assert worded("fi", Note.WITHDRAWN_BY_REQUESTER.label) in "\n".join(withdrawn_lines)


def test_a_typed_reason_stays_as_typed(client, register_a, handler_a):
    request = steps.in_progress(register_a, handler_a)
    request_transition(request=request, to=State.ON_HOLD, actor=handler_a, reason="Odotamme arkistoa")
    client.force_login(handler_a)
    lines = history(client, request, "sv")
    assert any("Odotamme arkistoa" in line for line in lines), lines


def test_rows_written_with_english_system_text_read_in_the_readers_language(client, register_a, handler_a):
    # Rows as the services wrote them before the notes were codes (the trail is append-only and stays so).
    request = steps.in_triage(register_a, handler_a, language="fi")
    original = steps.confirmed(register_a)
    now = timezone.now()
    old_rows = [
        ("", State.RECEIVED, None, "verkkolomake"),
        (State.RECEIVED, State.VERIFYING, None, "e-mail confirmed"),
        (State.VERIFYING, State.TRIAGE, handler_a, "known e-mail address confirmed"),
        (State.IN_PROGRESS, State.REVIEW, handler_a, "answer prepared"),
        (State.REVIEW, State.RESPONDED, handler_a, "answer approved"),
        (State.RECEIVED, State.DUPLICATE, None, f"repeat of {original.reference}"),
    ]
    for step, (source, to, actor, reason) in enumerate(old_rows):
        RequestEvent.objects.create(
            request=request,
            at=now + datetime.timedelta(seconds=step),
            actor=actor,
            from_state=source,
            to_state=to,
            reason=reason,
        )
    RequestEvent.objects.create(
        request=request,
        at=now + datetime.timedelta(seconds=10),
        action=RequestEvent.Action.PACKAGE_BUILT,
        from_state=State.REVIEW,
        to_state=State.REVIEW,
        reason="note of the approver added",
        payload={"package": "x", "note": True},
    )
    client.force_login(handler_a)
    lines = history(client, request, "sv")
    text = "\n".join(lines)
    assert_speaks(lines, "sv")
    assert "verkkolomake" not in text
    assert worded("sv", DataSubjectRequest.Channel.WEB.label) in text
    assert worded("sv", DataSubjectRequest.IdentityMethod.KNOWN_EMAIL.label) in text
    assert worded("sv", Note.APPROVER_NOTE_ADDED.label) in text
    assert original.reference in text
