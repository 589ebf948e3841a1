"""A repeated public-form submission never hands a stranger someone's request (issue 11, A1).

Knowing a person's e-mail address must not let anyone see, withdraw or
pre-empt that person's request, nor tell whether the address filed one.
"""

import datetime
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy.requests import tokens
from privacy.requests.models import DataSubjectRequest

from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State


def form_url(register) -> str:
    return reverse("privacy:request-form", kwargs={"organisation": register.organisation.code})


def form_data(register, **overrides) -> dict:
    return {
        "kind": "erasure",
        "registers": [register.slug],
        "requester_name": "Anna Asiakas",
        "requester_email": f"anna.{uuid.uuid4().hex[:10]}@example.fi",
        "language": "fi",
        "delivery": "electronic",
        **overrides,
    }


def stranger() -> Client:
    return Client(REMOTE_ADDR=f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}", HTTP_ACCEPT_LANGUAGE="en")


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def answer(client: Client, register, data) -> tuple[int, str, str]:
    """What a browser sees after sending the form: status, where it is sent and that page."""
    response = client.post(form_url(register), data)
    page = client.get(response["Location"]) if response.status_code == 302 else response
    # The CSRF token of the page's language switch differs on every page; nothing else may.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.content.decode())
    return response.status_code, response.get("Location", ""), html


def test_a_stranger_with_the_persons_address_gets_no_link_and_cannot_withdraw_their_request(
    register_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    email = f"victim.{uuid.uuid4().hex[:8]}@example.fi"
    victim = steps.confirmed(register_a, email=email, kind=DataSubjectRequest.Kind.ERASURE)
    mailoutbox.clear()

    # The stranger repeats the request at once, with their own postal address.
    client = stranger()
    data = form_data(register_a, requester_email=email, requester_address="Hämärätie 1, 00100 Helsinki")
    with django_capture_on_commit_callbacks(execute=True):
        status, location, page = answer(client, register_a, data)
    assert (status, location) == (302, reverse("privacy:request-sent"))
    assert "/privacy/request/status/" not in page
    assert tokens.status_token_make(victim) not in page
    assert victim.reference not in page
    # The victim's request is untouched and the stranger's address is in it nowhere.
    victim.refresh_from_db()
    assert victim.state == State.VERIFYING
    assert victim.requester_address == ""
    # Whatever the stranger's request is, only the address's owner got its links.
    assert {tuple(m.to) for m in mailoutbox} == {(email,)}
    repeat = DataSubjectRequest.objects.exclude(pk=victim.pk).get()
    assert repeat.state == State.RECEIVED
    # Every link the stranger could have followed from the pages leads nowhere.
    for href in re.findall(r'href="([^"]+)"', page):
        assert "/status/" not in href


def test_an_address_that_filed_a_request_gets_the_same_answer_as_one_that_did_not(register_a):
    filed = f"filed.{uuid.uuid4().hex[:8]}@example.fi"
    steps.confirmed(register_a, email=filed, kind=DataSubjectRequest.Kind.ERASURE)
    steps.submit(register_a, email=f"other.{uuid.uuid4().hex[:8]}@example.fi", kind=DataSubjectRequest.Kind.ERASURE)
    never = f"never.{uuid.uuid4().hex[:8]}@example.fi"
    seen = {
        answer(stranger(), register_a, form_data(register_a, requester_email=address))
        for address in (filed, never, filed.upper())
    }
    assert len(seen) == 1


def test_the_owner_confirming_a_repeat_folds_it_into_the_confirmed_request_and_gets_its_link_by_email(
    public_client, register_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    email = f"twice.{uuid.uuid4().hex[:8]}@example.fi"
    first = steps.confirmed(register_a, email=email, kind=DataSubjectRequest.Kind.ERASURE)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        public_client.post(form_url(register_a), form_data(register_a, requester_email=email, details="Kaikki pois"))
    [confirmation] = mailoutbox
    confirm = next(link for link in links_in(confirmation) if "/confirm/" in link)
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(path_of(confirm))
    repeat = DataSubjectRequest.objects.exclude(pk=first.pk).get()
    assert repeat.state == State.DUPLICATE
    assert repeat.duplicate_of == first
    assert repeat.events.filter(to_state=State.DUPLICATE, actor=None).exists()
    # The browser goes to the status link of the request it confirmed, the one in the same e-mail.
    assert response["Location"] == reverse("privacy:status", kwargs={"token": tokens.status_token_make(repeat)})
    page = public_client.get(response["Location"]).content.decode()
    assert first.reference in page
    assert tokens.status_token_make(first) not in page
    # The earlier request's link went to the address.
    letter = mailoutbox[-1]
    assert letter.to == [email]
    assert any(tokens.status_token_make(first) in link for link in links_in(letter))
    first.refresh_from_db()
    assert first.state == State.VERIFYING


def test_a_stranger_who_files_first_does_not_capture_the_owners_request(
    register_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    email = f"early.{uuid.uuid4().hex[:8]}@example.fi"
    with django_capture_on_commit_callbacks(execute=True):
        answer(stranger(), register_a, form_data(register_a, requester_email=email, requester_address="Väärä 1"))
        answer(stranger(), register_a, form_data(register_a, requester_email=email, requester_address="Oikea 2"))
    # Two requests, two letters: confirming the owner's own one puts it, and only it, in the queue.
    bogus, own = DataSubjectRequest.objects.order_by("created_at", "pk")
    own_letter = next(m for m in mailoutbox if own.reference in m.subject)
    confirm = next(link for link in links_in(own_letter) if "/confirm/" in link)
    stranger().post(path_of(confirm))
    own.refresh_from_db()
    bogus.refresh_from_db()
    assert (own.state, own.requester_address) == (State.VERIFYING, "Oikea 2")
    assert bogus.state == State.RECEIVED


def test_a_repeat_of_a_withdrawn_request_is_a_request_of_its_own(register_a):
    email = f"again.{uuid.uuid4().hex[:8]}@example.fi"
    first = steps.confirmed(register_a, email=email)
    steps.services.request_withdraw_by_requester(request=first)
    second = steps.confirmed(register_a, email=email)
    assert second.state == State.VERIFYING


def test_the_status_link_stops_working_thirty_days_after_the_request_ended(public_client, register_a):
    assert tokens.STATUS_LINK_DAYS_AFTER_END == 30
    request = steps.confirmed(register_a)
    token = tokens.status_token_make(request)
    page = public_client.get(reverse("privacy:status", kwargs={"token": token}))
    assert page.status_code == 200
    assert "stops working 30 days after your request has been answered or closed" in page.content.decode()
    steps.services.request_withdraw_by_requester(request=request)
    ended = DataSubjectRequest.objects.get(pk=request.pk).closed_at
    DataSubjectRequest.objects.filter(pk=request.pk).update(closed_at=ended - datetime.timedelta(days=29))
    assert public_client.get(reverse("privacy:status", kwargs={"token": token})).status_code == 200
    DataSubjectRequest.objects.filter(pk=request.pk).update(closed_at=timezone.now() - datetime.timedelta(days=30))
    response = public_client.get(reverse("privacy:status", kwargs={"token": token}))
    assert response.status_code == 410
    html = response.content.decode()
    assert request.reference not in html
    assert "30 days after the request was answered or closed" in html
    for name in ("privacy:withdraw", "privacy:status-letter"):
        method = public_client.post if name == "privacy:withdraw" else public_client.get
        assert method(reverse(name, kwargs={"token": token})).status_code == 404


def test_the_status_link_of_an_answered_request_ends_thirty_days_after_the_answer(
    public_client, register_a, handler_a, owner_a
):
    request = steps.answered(register_a, handler_a, owner_a)
    token = tokens.status_token_make(request)
    page = public_client.get(reverse("privacy:status", kwargs={"token": token}))
    assert page.status_code == 200
    ends = timezone.localtime(request.responded_at + datetime.timedelta(days=30)).date()
    assert f"This link works until {ends.strftime('%m/%d/%Y')}" in page.content.decode()
    DataSubjectRequest.objects.filter(pk=request.pk).update(responded_at=timezone.now() - datetime.timedelta(days=31))
    assert public_client.get(reverse("privacy:status", kwargs={"token": token})).status_code == 410
