"""Document requests through their pages: the public form, the handlers' intake, queue and request page."""

import datetime

import pytest
from django.utils import timezone

from openness.models import DocumentRequest
from registers.models import Role

from ..conftest import grant
from ..factories import RegisterFactory, UserFactory

State = DocumentRequest.State


@pytest.fixture
def register(db):
    return RegisterFactory()


@pytest.fixture
def handler(register, client):
    user = UserFactory()
    grant(user, register, Role.HANDLER)
    client.force_login(user)
    return user


def form_url(register) -> str:
    return f"/openness/request/{register.organisation.code}/"


def test_anyone_requests_documents_without_saying_who_or_why(client, register):
    response = client.post(
        form_url(register), {"request_text": "Tapaamiset lokakuussa", "language": "fi", "requester_kind": "media"}
    )
    assert response.status_code == 302
    request = DocumentRequest.objects.get()
    assert (request.channel, request.state, request.requester_name) == ("web", State.RECEIVED, "")
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert request.diary_number in page


def test_personal_data_needs_the_name_and_purpose_and_the_form_keeps_what_was_typed(client, register):
    data = {"request_text": "Asiakkaiden yhteystiedot", "language": "en", "registers": [register.slug]}
    response = client.post(form_url(register), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "13(2)" in response.content.decode()
    assert "Asiakkaiden yhteystiedot" in response.content.decode()
    assert not DocumentRequest.objects.exists()
    client.post(form_url(register), {**data, "requester_name": "Tutkija", "purpose": "Tutkimus"})
    assert list(DocumentRequest.objects.get().registers.all()) == [register]


def test_the_public_start_page_leads_to_the_form(client, register):
    assert client.get("/openness/request/").status_code == 302
    page = client.get("/privacy/request/", follow=True).content.decode()
    assert 'href="/openness/request/"' in page


def test_a_handler_records_a_letter_and_walks_it_to_an_answer(client, register, handler):
    received = timezone.localdate() - datetime.timedelta(days=3)
    response = client.post(
        "/openness/new/",
        {
            "organisation": register.organisation.code,
            "channel": "post",
            "received_on": received.isoformat(),
            "written": "on",
            "request_text": "Kokouspöytäkirjat",
            "language": "sv",
            "requester_kind": "private",
        },
    )
    assert response.status_code == 302
    request = DocumentRequest.objects.get()
    assert timezone.localtime(request.received_at).date() == received
    assert timezone.localtime(request.due_at).date() == received + datetime.timedelta(days=14)
    detail = response["Location"]
    assert client.post(f"{detail}take-up/").status_code == 302
    client.post(f"{detail}extend/", {"reason": "many_documents"})
    client.post(f"{detail}answer/", {"outcome": "partly_granted", "delivery": "email", "fee_amount": "0"})
    request.refresh_from_db()
    assert (request.state, request.outcome, request.extension_reason) == (
        State.ANSWERED,
        "partly_granted",
        "many_documents",
    )
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "time extended to one month" in page


def test_a_bad_step_is_told_and_changes_nothing(client, register, handler):
    client.post(form_url(register), {"request_text": "x", "language": "fi"})
    request = DocumentRequest.objects.get()
    response = client.post(f"/openness/{request.code}/refuse/", {"reason": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.state == State.RECEIVED
    response = client.post(
        f"/openness/{request.code}/answer/", {"outcome": "granted", "delivery": "email"}, follow=True
    )
    request.refresh_from_db()
    assert request.state == State.RECEIVED  # "received" cannot be answered before it is taken up
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_the_queue_and_the_front_page_show_what_is_overdue(client, register, handler):
    client.post(form_url(register), {"request_text": "x", "language": "fi"})
    DocumentRequest.objects.update(due_at=timezone.now() - datetime.timedelta(hours=1))
    queue = client.get("/openness/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "overdue" in queue
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 open document request" in home
    assert "1 overdue" in home


def test_the_owners_monthly_figures_count_outcomes_and_hide_small_numbers(client, register, settings):
    from openness import services

    owner = UserFactory()
    grant(owner, register, Role.OWNER)
    settings.STATISTICS_MIN_CELL = 3
    for _ in range(4):
        request = services.document_request_submit(
            organisation=register.organisation, registers=[], data={"request_text": "x"}
        )
        request = services.document_request_take_up(actor=owner, request=request)
        services.document_request_answer(actor=owner, request=request, outcome="granted", delivery="email")
    services.document_request_submit(organisation=register.organisation, registers=[], data={"request_text": "y"})
    client.force_login(owner)
    row = client.get("/openness/figures/").context["rows"][0]
    assert (row["received"], row["in_time"], row["outcome_granted"], row["late"]) == (5, 4, 4, 0)
    assert row["outcome_refused"] == 0
    staff = UserFactory()
    grant(staff, register, Role.HANDLER)
    client.force_login(staff)
    assert client.get("/openness/figures/").context["rows"] == []


def test_a_single_request_is_not_shown_as_one(client, register):
    from openness import services

    owner = UserFactory()
    grant(owner, register, Role.OWNER)
    services.document_request_submit(organisation=register.organisation, registers=[], data={"request_text": "x"})
    client.force_login(owner)
    row = client.get("/openness/figures/", HTTP_ACCEPT_LANGUAGE="en").context["rows"][0]
    assert row["received"] is None


def test_handlers_are_reminded_on_day_10_and_day_12_once_each(register, settings, mailoutbox):

    from openness import services
    from openness.reminders import document_request_reminders_send

    handler, staff = UserFactory(email="kasittelija@example.fi"), UserFactory(email="henkilosto@example.fi")
    grant(handler, register, Role.HANDLER)
    grant(staff, register, Role.STAFF)
    request = services.document_request_submit(
        organisation=register.organisation, registers=[], data={"request_text": "Salainen aihe"}
    )
    received = request.received_at
    assert document_request_reminders_send(now=received + datetime.timedelta(days=9)) == 0
    day_10 = received + datetime.timedelta(days=10, hours=12)
    assert document_request_reminders_send(now=day_10) == 1
    assert document_request_reminders_send(now=day_10 + datetime.timedelta(hours=1)) == 0
    assert [message.to for message in mailoutbox] == [["kasittelija@example.fi"]]
    assert request.diary_number in mailoutbox[0].subject
    assert "Salainen aihe" not in mailoutbox[0].body
    assert document_request_reminders_send(now=received + datetime.timedelta(days=12, hours=12)) == 1
    assert document_request_reminders_send(now=received + datetime.timedelta(days=16)) == 0  # overdue: the queue says
    assert len(mailoutbox) == 2
    assert list(request.events.filter(action="reminder").values_list("payload__days", flat=True)) == [4, 2]


def test_a_party_asks_with_the_matter_and_the_handler_sees_the_right_of_11(client, register, handler):
    url = form_url(register)
    data = {"request_text": "Hankinnan asiakirjat", "language": "fi", "as_party": "on"}
    assert client.post(url, data).status_code == 200  # a party's right needs the name and the matter
    assert not DocumentRequest.objects.exists()
    client.post(url, {**data, "requester_name": "Tarjoaja Oy", "party_matter": "Hankinta HEL 2026-001234"})
    request = DocumentRequest.objects.get()
    assert request.as_party
    page = client.get(f"/openness/{request.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Party&#x27;s right (11 §)" in page or "Party's right (11 §)" in page
    assert "Hankinta HEL 2026-001234" in page


@pytest.mark.parametrize(
    ("delivery", "fee", "basis", "accepted"),
    [
        ("email", "", "", True),
        ("email", "10", "Kopiot", False),  # by e-mail: free of charge
        ("viewing", "5", "Kopiot", False),
        ("copy", "12.50", "", False),  # a fee needs its basis
        ("copy", "12.50", "40 sivun kopiot (34 §)", True),
    ],
)
def test_a_fee_only_for_copies_and_with_its_basis(client, register, handler, delivery, fee, basis, accepted):
    client.post(form_url(register), {"request_text": "x", "language": "fi"})
    request = DocumentRequest.objects.get()
    client.post(f"/openness/{request.code}/take-up/")
    data = {"outcome": "granted", "delivery": delivery, "fee_amount": fee, "fee_basis": basis}
    client.post(f"/openness/{request.code}/answer/", data)
    request.refresh_from_db()
    assert (request.state == State.ANSWERED) is accepted


@pytest.mark.parametrize(
    ("path", "name", "data"),
    [
        ([], "withdraw", {"note": "Pyytäjä perui puhelimessa"}),
        ([], "transfer", {"to_authority": "Patentti- ja rekisterihallitus"}),
        (["take-up"], "refuse", {"reason": "Liikesalaisuus"}),
        (["take-up", "refuse"], "choice", {"wanted": "no"}),
        (["take-up"], "extend", {"reason": "secret_parts", "note": "Paljon salattavaa"}),
    ],
)
def test_every_step_with_its_form_filled_in_works_from_the_page(client, register, handler, path, name, data):

    client.post(form_url(register), {"request_text": "x", "language": "fi"})
    request = DocumentRequest.objects.get()
    for step in path:
        extra = {"reason": "Liikesalaisuus"} if step == "refuse" else {}
        client.post(f"/openness/{request.code}/{step}/", extra)
    before = request.events.count()
    response = client.post(f"/openness/{request.code}/{name}/", data, follow=True)
    assert response.status_code == 200
    assert "error" not in [m.level_tag for m in response.context["messages"]]
    assert request.events.count() == before + 1
    request.refresh_from_db()
    event = request.events.order_by("-at", "-id").first()
    typed = data.get("note") or data.get("reason") if name != "extend" else data["note"]
    if name == "transfer":
        assert request.transferred_to == data["to_authority"]
    elif name == "choice":
        assert request.decision_wanted == "no"
    else:
        assert event.reason == typed
