"""The public request form, e-mail confirmation, status and withdrawal links, and abuse of them."""

import re
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from kombu.exceptions import OperationalError

from privacy.requests import tasks, tokens
from privacy.requests.models import Correspondence, DataSubjectRequest
from privacy.requests.services import ERROR_RATE_LIMITED

from ...factories import RegisterFactory
from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def form_url(register) -> str:
    return reverse("privacy:request-form", kwargs={"organisation": register.organisation.code})


def form_data(register, **overrides) -> dict:
    data = {
        "kind": "access",
        "registers": [register.slug],
        "requester_name": "Anna Asiakas",
        # A fresh address per call: the per-address counters live in the shared cache.
        "requester_email": f"anna.{uuid.uuid4().hex[:10]}@example.fi",
        "language": "fi",
        "delivery": "electronic",
    }
    data.update(overrides)
    return data


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_the_form_is_public_and_links_each_register_description(public_client, register_a):
    response = public_client.get(form_url(register_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/registers/{register_a.slug}/description/"' in html
    assert 'enctype="multipart/form-data"' in html


def test_every_form_control_has_a_label(public_client, register_a):
    html = public_client.get(form_url(register_a)).content.decode()
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    ids.discard("language-select")  # the header's language switch has its own label
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids
    assert ids <= labelled, ids - labelled


def test_the_start_page_lists_controllers_and_sends_a_register_link_to_its_form(public_client, register_a, register_b):
    response = public_client.get(reverse("privacy:request-create"))
    assert response.status_code == 200
    assert register_a.organisation.name in response.content.decode()
    response = public_client.get(reverse("privacy:request-create") + f"?register={register_b.slug}")
    assert response.status_code == 302
    assert response["Location"].startswith(form_url(register_b))


def test_the_form_is_shown_in_swedish(public_client, register_a):
    public_client.cookies["django_language"] = "sv"
    response = public_client.get(form_url(register_a), HTTP_ACCEPT_LANGUAGE="sv")
    assert '<html lang="sv">' in response.content.decode()


def test_a_request_is_stored_and_a_confirmation_link_is_emailed(
    public_client, register_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(form_url(register_a), form_data(register_a))
    request = DataSubjectRequest.objects.get()
    assert (request.state, request.channel, request.received_at) == (State.RECEIVED, "web", None)
    assert re.fullmatch(r"DSR-\d{4}-\d{6}", request.reference)
    assert list(request.registers.all()) == [register_a]
    assert response.status_code == 302
    # The browser gets no link: the links reach the person only by e-mail.
    assert response["Location"] == reverse("privacy:request-sent")
    sent_page = public_client.get(response["Location"]).content.decode()
    assert "Check your e-mail" in sent_page
    assert request.reference not in sent_page
    assert "/privacy/request/status/" not in sent_page
    [message] = mailoutbox
    assert message.to == [request.requester_email]
    assert request.reference in message.subject
    confirm, status = links(message.body)
    assert "/privacy/request/confirm/" in confirm
    assert "/privacy/request/status/" in status
    status_page = public_client.get(path_of(status)).content.decode()
    assert request.reference in status_page


def test_the_confirmation_link_moves_the_request_into_the_queue(
    public_client, register_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        public_client.post(form_url(register_a), form_data(register_a))
    confirm = path_of(links(mailoutbox[0].body)[0])
    # Opening the link (a mail scanner does that too) changes nothing.
    assert public_client.get(confirm).status_code == 200
    assert DataSubjectRequest.objects.get().state == State.RECEIVED
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(confirm)
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert request.state == State.VERIFYING
    assert request.email_confirmed_at is not None
    assert request.received_at is not None
    acknowledgement = mailoutbox[-1]
    assert request.reference in acknowledgement.subject
    # A second click is harmless.
    assert public_client.post(confirm).status_code == 302
    assert request.events.filter(action="transition", to_state=State.VERIFYING).count() == 1


def test_an_expired_confirmation_link_is_refused(public_client, register_a, monkeypatch):
    request = steps.submit(register_a)
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: 1_000_000_000.0)
        old = tokens.confirm_token_make(request)
    response = public_client.post(reverse("privacy:confirm", kwargs={"token": old}))
    assert response.status_code == 410
    assert "48" in response.content.decode()
    assert DataSubjectRequest.objects.get().state == State.RECEIVED


def test_a_link_just_under_48_hours_old_still_works(public_client, register_a, monkeypatch):
    request = steps.submit(register_a)
    now = time.time()
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: now - 47 * 3600)
        token = tokens.confirm_token_make(request)
    assert public_client.post(reverse("privacy:confirm", kwargs={"token": token})).status_code == 302
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: now - 49 * 3600)
        token = tokens.confirm_token_make(steps.submit(register_a))
    assert public_client.post(reverse("privacy:confirm", kwargs={"token": token})).status_code == 410


# Each mangling changes the token whatever it was: a fixed replacement character would
# leave a token that already starts (or ends) with it untouched.
@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("yy" if t.endswith("xx") else "xx"),
        lambda t: ("1" if t.startswith("0") else "0") + t[1:],
        lambda t: "nonsense",
    ],
)
def test_a_tampered_confirmation_link_is_refused(public_client, register_a, mangle):
    request = steps.submit(register_a)
    token = mangle(tokens.confirm_token_make(request))
    assert public_client.post(reverse("privacy:confirm", kwargs={"token": token})).status_code == 404
    assert DataSubjectRequest.objects.get().state == State.RECEIVED


def test_a_link_for_one_purpose_does_not_open_another(public_client, register_a):
    request = steps.submit(register_a)
    status_token = tokens.status_token_make(request)
    assert public_client.post(reverse("privacy:confirm", kwargs={"token": status_token})).status_code == 404
    confirm_token = tokens.confirm_token_make(request)
    assert public_client.get(reverse("privacy:status", kwargs={"token": confirm_token})).status_code == 404


def test_a_reference_number_that_is_not_the_requesters_opens_nothing(public_client, register_a):
    mine, theirs = steps.submit(register_a), steps.submit(register_a, name="Toinen Henkilö")
    my_token = tokens.status_token_make(mine)
    # The reference alone, or my signature with another request's code, shows nothing.
    assert public_client.get(reverse("privacy:status", kwargs={"token": theirs.reference})).status_code == 404
    forged = f"{theirs.code}:{my_token.split(':', 1)[1]}"
    response = public_client.get(reverse("privacy:status", kwargs={"token": forged}))
    assert response.status_code == 404
    mine_page = public_client.get(reverse("privacy:status", kwargs={"token": my_token})).content.decode()
    assert mine.reference in mine_page
    assert "Toinen Henkilö" not in mine_page
    assert theirs.reference not in mine_page


def test_the_same_request_sent_twice_within_minutes_is_one_request(public_client, register_a):
    email = f"same.{uuid.uuid4().hex[:8]}@example.fi"
    first = public_client.post(form_url(register_a), form_data(register_a, requester_email=email))
    second = public_client.post(form_url(register_a), form_data(register_a, requester_email=email.upper()))
    assert DataSubjectRequest.objects.count() == 1
    assert first["Location"] == second["Location"] == reverse("privacy:request-sent")
    # The links of the one request go to the address again, not to the browser.
    request = DataSubjectRequest.objects.get()
    letters = list(request.correspondence.order_by("pk").values_list("kind", flat=True))
    assert letters == ["confirm_email", "confirm_email"]
    # Another kind of request is another request.
    public_client.post(form_url(register_a), form_data(register_a, requester_email=email, kind="erasure"))
    assert DataSubjectRequest.objects.count() == 2


def test_the_same_request_after_ten_minutes_is_a_new_request(public_client, register_a):
    import datetime

    from django.utils import timezone

    data = form_data(register_a)
    public_client.post(form_url(register_a), data)
    DataSubjectRequest.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    public_client.post(form_url(register_a), data)
    assert DataSubjectRequest.objects.count() == 2


def test_flooding_from_one_address_gets_429_with_the_form_kept(public_client, register_a, settings):
    settings.PRIVACY_RATE_LIMITS = {"ip": (3, 3600)}
    for n in range(3):
        response = public_client.post(form_url(register_a), form_data(register_a, requester_email=f"p{n}@example.fi"))
        assert response.status_code == 302
    response = public_client.post(
        form_url(register_a), form_data(register_a, requester_email="late@example.fi", details="Please hurry")
    )
    assert response.status_code == 429
    html = response.content.decode()
    with translation.override("en"):
        assert str(ERROR_RATE_LIMITED) in html
    # Nothing typed is lost: the form comes back filled in.
    assert 'value="late@example.fi"' in html
    assert "Please hurry" in html
    assert DataSubjectRequest.objects.count() == 3
    other = Client(REMOTE_ADDR=f"10.250.{n}.{uuid.uuid4().int % 250 + 1}")
    assert other.post(form_url(register_a), form_data(register_a, requester_email="x@example.fi")).status_code == 302


def test_flooding_for_one_email_stores_nothing_more_and_answers_like_any_submission(
    public_client, register_a, settings, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    settings.PRIVACY_RATE_LIMITS = {"email": (2, 3600)}
    email = f"flood.{uuid.uuid4().hex[:8]}@example.fi"
    answers = []
    for kind in ("access", "erasure", "objection"):
        data = form_data(register_a, kind=kind, requester_email=email)
        with django_capture_on_commit_callbacks(execute=True):
            response = public_client.post(form_url(register_a), data)
        answers.append((response.status_code, response["Location"]))
    # A 429 here would tell a stranger that this address has been sending requests.
    assert answers == [(302, reverse("privacy:request-sent"))] * 3
    assert DataSubjectRequest.objects.count() == 2
    assert len(mailoutbox) == 2


def test_a_register_name_with_a_nul_byte_is_no_error(public_client, register_a):
    response = public_client.get(reverse("privacy:request-create") + "?register=%00")
    assert response.status_code in {200, 302}
    response = public_client.get(reverse("privacy:request-create") + "?register=a%00b")
    assert response.status_code in {200, 302}
    response = public_client.get(form_url(register_a) + "?register=%00")
    assert response.status_code == 200


def test_the_form_works_when_the_rate_counter_is_down(public_client, register_a, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", broken)
    assert public_client.post(form_url(register_a), form_data(register_a)).status_code == 302
    assert DataSubjectRequest.objects.count() == 1


def test_the_request_is_kept_when_the_broker_is_down_and_the_sweeper_sends_the_letter(
    public_client, register_a, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.correspondence_send_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(form_url(register_a), form_data(register_a))
    assert response.status_code == 302
    letter = Correspondence.objects.get()
    assert letter.sent_at is None
    assert mailoutbox == []
    assert tasks.correspondence_sweep(older_than_seconds=0) == 1
    assert len(mailoutbox) == 1
    assert Correspondence.objects.get().sent_at is not None
    assert tasks.correspondence_sweep(older_than_seconds=0) == 0


def test_the_honeypot_stores_nothing(public_client, register_a):
    response = public_client.post(form_url(register_a), form_data(register_a, website="http://spam.example"))
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:request-sent")
    assert DataSubjectRequest.objects.count() == 0


def test_registers_or_all_must_be_chosen(public_client, register_a):
    response = public_client.post(form_url(register_a), form_data(register_a, registers=[]))
    assert response.status_code == 200
    assert "Choose at least one register" in response.content.decode()
    public_client.post(form_url(register_a), form_data(register_a, registers=[], all_registers="on"))
    request = DataSubjectRequest.objects.get()
    assert request.all_registers
    assert list(request.registers.all()) == [register_a]


def test_a_register_of_another_controller_cannot_be_smuggled_in(public_client, register_a, register_b):
    response = public_client.post(form_url(register_a), form_data(register_a, registers=[register_b.slug]))
    assert response.status_code == 200
    assert DataSubjectRequest.objects.count() == 0


def test_rectification_needs_what_and_why(public_client, register_a):
    response = public_client.post(form_url(register_a), form_data(register_a, kind="rectification"))
    assert "Tell what should be corrected and why." in response.content.decode()
    public_client.post(
        form_url(register_a),
        form_data(register_a, kind="rectification", correction_what="Osoite", correction_why="Muutin"),
    )
    assert DataSubjectRequest.objects.get().correction_why == "Muutin"


def test_an_identity_code_is_refused_in_free_text(public_client, register_a):
    response = public_client.post(form_url(register_a), form_data(register_a, details="Hetuni on 131052-308T"))
    assert response.status_code == 200
    assert "Personal identity codes may not be stored" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_a_mandate_is_checked_by_its_bytes_and_stored_under_a_random_name(public_client, register_a, private_media):
    data = form_data(register_a, acting_for="Aapo Asiakas", mandate=upload(PNG, "valtakirja Aapo.pdf"))
    assert public_client.post(form_url(register_a), data).status_code == 302
    request = DataSubjectRequest.objects.get()
    assert re.fullmatch(r"privacy/mandates/[0-9a-f]{32}\.png", request.mandate.name)
    assert (private_media / request.mandate.name).read_bytes() == PNG


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00 this is a windows program", "mandate.pdf"),
        (b"<html><script>alert(1)</script></html>", "mandate.png"),
        (b"", "empty.pdf"),
    ],
)
def test_a_mandate_of_the_wrong_type_is_refused(public_client, register_a, private_media, content, name):
    data = form_data(register_a, acting_for="Aapo", mandate=upload(content, name))
    response = public_client.post(form_url(register_a), data)
    assert response.status_code == 200
    assert DataSubjectRequest.objects.count() == 0


def test_an_oversized_mandate_is_refused(public_client, register_a, private_media):
    big = PDF + b"0" * (5 * 1024 * 1024)
    response = public_client.post(
        form_url(register_a), form_data(register_a, acting_for="Aapo", mandate=upload(big, "a.pdf"))
    )
    assert "The file is too large" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0


def test_acting_for_someone_without_a_mandate_is_refused(public_client, register_a):
    response = public_client.post(form_url(register_a), form_data(register_a, acting_for="Aapo"))
    assert "Attach the mandate" in response.content.decode()


def test_script_in_the_fields_is_shown_as_text(
    public_client, register_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with django_capture_on_commit_callbacks(execute=True):
        public_client.post(form_url(register_a), form_data(register_a, requester_name=script, details=script))
    status = next(link for link in links(mailoutbox[0].body) if "/status/" in link)
    html = public_client.get(path_of(status)).content.decode()
    assert script not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    # Letters escape it too.
    for message in mailoutbox:
        assert "<script>alert" not in message.alternatives[0][0]


def test_the_requester_can_withdraw_through_the_status_link(public_client, register_a):
    request = steps.confirmed(register_a)
    token = tokens.status_token_make(request)
    response = public_client.post(reverse("privacy:withdraw", kwargs={"token": token}))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == State.WITHDRAWN
    assert public_client.post(reverse("privacy:withdraw", kwargs={"token": token})).status_code == 302
    assert request.events.filter(action="transition", to_state=State.WITHDRAWN).count() == 1


def test_the_form_needs_a_csrf_token(register_a):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.9.9.9")
    assert client.post(form_url(register_a), form_data(register_a)).status_code == 403


def test_all_registers_means_the_parts_of_a_divided_register(public_client, register_a):
    whole = RegisterFactory(organisation=register_a.organisation)
    part = RegisterFactory(organisation=register_a.organisation, parent=whole)
    public_client.post(form_url(register_a), form_data(register_a, registers=[], all_registers="on"))
    assert set(DataSubjectRequest.objects.get().registers.all()) == {register_a, part}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_of_the_same_request_make_one_request(register_a):
    import threading

    from django.db import connection

    from privacy.requests import services

    data = {
        "kind": "access",
        "requester_name": "Rinnakkainen",
        "requester_email": f"parallel.{uuid.uuid4().hex[:8]}@example.fi",
        "language": "fi",
    }
    barrier = threading.Barrier(4)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            request, _created = services.request_submit(
                organisation=register_a.organisation, registers=[register_a], all_registers=False, data=dict(data)
            )
            results.append(request.pk)
        except Exception as error:  # collected for the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert DataSubjectRequest.objects.count() == 1
