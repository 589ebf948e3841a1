"""Staff screens: intake, the queue, a request's page and its actions, scoped by register."""

import datetime
import uuid

import pytest
from auditlog.models import LogEntry
from django.db import models
from django.urls import reverse
from django.utils import timezone

from privacy.requests import workflow
from privacy.requests.models import DataSubjectRequest, PackageDownload, RequestEvent
from privacy.requests.workflow import request_transition
from registers.models import Role

from ...conftest import grant
from ...factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory, UserFactory
from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State


@pytest.fixture
def staff_client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def detail(request) -> str:
    return reverse("privacy:request-detail", kwargs={"code": request.code})


def action(request, name) -> str:
    return reverse(f"privacy:request-{name}", kwargs={"code": request.code})


POST_ACTIONS = ["verify", "ask", "extend", "cannot-identify", "duplicate", "prepare", "approve", "move", "search"]
GET_PAGES = ["detail", "search", "mandate"]


def page(request, name):
    return detail(request) if name == "detail" else action(request, name)


@pytest.mark.parametrize("name", GET_PAGES + POST_ACTIONS)
def test_anonymous_visitors_are_sent_to_login(client, register_a, name):
    request = steps.confirmed(register_a)
    response = client.get(page(request, name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", GET_PAGES + POST_ACTIONS)
def test_a_user_of_another_register_gets_404(staff_client, register_a, staff_b, name):
    request = steps.confirmed(register_a, acting_for="Aapo")
    staff_client.force_login(staff_b)
    statuses = {staff_client.get(page(request, name)).status_code, staff_client.post(page(request, name)).status_code}
    assert 404 in statuses
    assert statuses <= {404, 405}


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_a_read_only_user_of_the_register_gets_403_on_post(staff_client, register_a, readonly_a, name):
    request = steps.confirmed(register_a)
    staff_client.force_login(readonly_a)
    assert staff_client.post(page(request, name), {"reason": "x", "to": "on_hold"}).status_code == 403
    assert DataSubjectRequest.objects.get(pk=request.pk).state == State.VERIFYING


def test_staff_without_request_rights_gets_403_on_the_page(staff_client, register_a, staff_a):
    request = steps.confirmed(register_a)
    staff_client.force_login(staff_a)
    assert staff_client.get(detail(request)).status_code == 403


def test_a_handler_cannot_approve_an_answer(staff_client, register_a, handler_a):
    other = steps.in_review(register_a, handler_a)
    staff_client.force_login(handler_a)
    assert staff_client.post(action(other, "approve")).status_code == 403
    assert DataSubjectRequest.objects.get(pk=other.pk).state == State.REVIEW


def test_the_queue_shows_only_the_users_registers_overdue_first(staff_client, register_a, register_b, handler_a):
    late = services_intake(handler_a, register_a, days_ago=10, name="Late")
    fresh = steps.confirmed(register_a)
    other = steps.confirmed(register_b)
    staff_client.force_login(handler_a)
    html = staff_client.get(reverse("privacy:queue")).content.decode()
    assert html.index(late.reference) < html.index(fresh.reference)
    assert other.reference not in html
    assert "3 days overdue" in html
    assert "7 days left" in html


def services_intake(handler, register, *, days_ago=0, name="Pia Paperi", **extra):
    from privacy.requests import services

    return services.request_intake(
        actor=handler,
        registers=[register],
        data={
            "kind": "access",
            "channel": DataSubjectRequest.Channel.POST,
            "requester_name": name,
            "received_on": timezone.localdate() - datetime.timedelta(days=days_ago),
            **extra,
        },
    )


def test_the_home_page_lists_overdue_and_near_due_requests(staff_client, register_a, handler_a):
    late = services_intake(handler_a, register_a, days_ago=10)
    later = services_intake(handler_a, register_a, days_ago=0)
    staff_client.force_login(handler_a)
    html = staff_client.get(reverse("home")).content.decode()
    assert late.reference in html
    assert later.reference not in html


def test_a_handler_records_an_in_person_request_and_answers_it_at_once(staff_client, register_a, register_b, handler_a):
    staff_client.force_login(handler_a)
    form = staff_client.get(reverse("privacy:request-new")).content.decode()
    assert register_a.slug in form
    assert register_b.slug not in form
    response = staff_client.post(
        reverse("privacy:request-new"),
        {
            "kind": "access",
            "channel": "in_person",
            "received_on": timezone.localdate().isoformat(),
            "registers": [register_a.slug],
            "requester_name": "Paula Paikalla",
            "identity_method": "in_person_id",
            "identity_note": "driving licence",
            "answer_now": "on",
            "language": "fi",
            "delivery": "in_person",
        },
    )
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert request.state == State.IN_PROGRESS
    assert (request.created_by, request.verified_by, request.identity_method) == (handler_a, handler_a, "in_person_id")
    moves = list(request.events.filter(action="transition").values_list("to_state", flat=True))
    assert moves == ["received", "verifying", "triage", "in_progress"]


@pytest.mark.parametrize(
    ("field", "value"), [("channel", "web"), ("channel", "profile"), ("identity_method", "profile_sign_in")]
)
def test_staff_cannot_record_what_only_the_form_or_the_profile_files(staff_client, register_a, handler_a, field, value):
    """A request recorded by staff never claims to have come from the public form or the city's customer profile,
    nor a sign-in to the profile, which only the profile's own call (the GDPR API) records."""
    staff_client.force_login(handler_a)
    form = staff_client.get(reverse("privacy:request-new")).content.decode()
    assert f'value="{value}"' not in form
    data = {
        "kind": "access",
        "channel": "post",
        "received_on": timezone.localdate().isoformat(),
        "registers": [register_a.slug],
        "requester_name": "Paula Paikalla",
        "identity_method": "signed_letter",
        "language": "fi",
        "delivery": "post",
        "requester_address": "Katu 1, 00100 Helsinki",
    }
    response = staff_client.post(reverse("privacy:request-new"), {**data, field: value})
    assert response.status_code == 200
    assert not DataSubjectRequest.objects.exists()
    # The same request as it came, by post with a signed letter, is recorded.
    assert staff_client.post(reverse("privacy:request-new"), data).status_code == 302
    assert DataSubjectRequest.objects.get().channel == "post"


def test_answering_at_once_needs_an_in_person_access_request_with_an_id(staff_client, register_a, handler_a):
    staff_client.force_login(handler_a)
    response = staff_client.post(
        reverse("privacy:request-new"),
        {
            "kind": "access",
            "channel": "phone",
            "received_on": timezone.localdate().isoformat(),
            "registers": [register_a.slug],
            "requester_name": "Puhelin Soittaja",
            "answer_now": "on",
            "language": "fi",
            "delivery": "post",
            "requester_address": "Katu 1",
        },
    )
    assert response.status_code == 200
    assert DataSubjectRequest.objects.count() == 0


def test_a_handler_cannot_record_a_request_for_another_register(staff_client, register_a, register_b, handler_a):
    staff_client.force_login(handler_a)
    response = staff_client.post(
        reverse("privacy:request-new"),
        {
            "kind": "access",
            "channel": "post",
            "received_on": timezone.localdate().isoformat(),
            "registers": [register_b.slug],
            "requester_name": "X",
            "language": "fi",
            "delivery": "in_person",
        },
    )
    assert response.status_code == 200
    assert DataSubjectRequest.objects.count() == 0


def test_staff_without_request_rights_cannot_record_requests(staff_client, staff_a):
    staff_client.force_login(staff_a)
    assert staff_client.get(reverse("privacy:request-new")).status_code == 403


def test_a_handler_and_an_owner_process_an_access_request_through_the_screens(
    staff_client, register_a, handler_a, owner_a
):
    person = PersonCustomerFactory(register=register_a, first_name="Sanna", last_name="Selvä", email="sanna@example.fi")
    stranger = PersonCustomerFactory(register=register_a, first_name="Outo", last_name="Muukalainen")
    request = steps.confirmed(register_a, name="Sanna Selvä", email=f"sanna.{uuid.uuid4().hex[:8]}@example.fi")
    staff_client.force_login(handler_a)
    assert staff_client.get(detail(request)).status_code == 200
    staff_client.post(action(request, "verify"), {"method": "known_email"})
    staff_client.post(action(request, "move"), {"to": "in_progress"})
    page = staff_client.get(action(request, "search")).content.decode()
    assert f"customer:{person.code}" in page
    assert str(stranger.code) not in page
    staff_client.post(action(request, "search"), {"register": register_a.slug, "record": [f"customer:{person.code}"]})
    staff_client.post(action(request, "prepare"))
    request.refresh_from_db()
    assert request.state == State.REVIEW
    staff_client.force_login(owner_a)
    response = staff_client.post(action(request, "approve"), {"decision_text": ""})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.state, request.prepared_by, request.approved_by) == (State.RESPONDED, handler_a, owner_a)
    assert list(request.matches.values_list("customer", flat=True)) == [person.pk]


def test_a_confirmed_record_of_another_register_is_refused(staff_client, register_a, register_b, handler_a):
    request = steps.in_progress(register_a, handler_a)
    elsewhere = PersonCustomerFactory(register=register_b)
    staff_client.force_login(handler_a)
    response = staff_client.post(
        action(request, "search"), {"register": register_a.slug, "record": [f"customer:{elsewhere.code}"]}
    )
    assert response.status_code == 302
    assert request.matches.count() == 0
    assert not request.register_parts.get().checked_at


def test_the_search_finds_people_by_email_phone_birth_date_and_business_id(staff_client, register_a, handler_a):
    by_email = PersonCustomerFactory(register=register_a, email="etsi@example.fi")
    by_phone = PersonCustomerFactory(register=register_a, mobile="+358401234567")
    by_birth = PersonCustomerFactory(register=register_a, date_of_birth=datetime.date(1970, 1, 2))
    company = CustomerFactory(register=register_a, business_id="1572860-0")
    contact = ContactPersonFactory(customer=company, email="yhteys@example.fi")
    request = steps.in_progress(register_a, handler_a)
    staff_client.force_login(handler_a)
    url = action(request, "search")
    assert str(by_email.code) in staff_client.get(url, {"name": "", "email": "ETSI@example.fi"}).content.decode()
    assert str(by_phone.code) in staff_client.get(url, {"name": "", "phone": "040 123 4567"}).content.decode()
    assert str(by_birth.code) in staff_client.get(url, {"name": "", "date_of_birth": "1970-01-02"}).content.decode()
    assert str(company.code) in staff_client.get(url, {"name": "", "business_id": "1572860-0"}).content.decode()
    assert str(contact.code) in staff_client.get(url, {"name": "", "email": "yhteys@example.fi"}).content.decode()


def test_moving_and_extending_through_the_page(staff_client, register_a, handler_a):
    request = steps.in_triage(register_a, handler_a)
    staff_client.force_login(handler_a)
    staff_client.post(action(request, "move"), {"to": "on_hold", "reason": "waiting"})
    request.refresh_from_db()
    assert request.state == State.ON_HOLD
    # A state the simple form does not offer is refused.
    staff_client.post(action(request, "move"), {"to": "responded"})
    request.refresh_from_db()
    assert request.state == State.ON_HOLD
    staff_client.post(action(request, "extend"), {"reason": ""})
    request.refresh_from_db()
    assert request.extended_at is None
    response = staff_client.post(action(request, "extend"), {"reason": "Large archive search"}, follow=True)
    request.refresh_from_db()
    assert request.extended_at is not None
    assert "extended by two months" in response.content.decode()


def test_asking_for_more_information_is_a_logged_event(staff_client, register_a, handler_a):
    request = steps.confirmed(register_a)
    staff_client.force_login(handler_a)
    staff_client.post(action(request, "ask"), {"message": "Please send a copy of a signed letter."})
    event = request.events.get(action=RequestEvent.Action.INFO_REQUESTED)
    assert (event.actor, event.reason) == (handler_a, "Please send a copy of a signed letter.")


def test_the_mandate_is_opened_only_by_handlers_and_logged(staff_client, register_a, handler_a, private_media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    request = steps.confirmed(
        register_a,
        acting_for="Aapo",
        mandate=SimpleUploadedFile("m.pdf", b"%PDF-1.4 mandate"),
    )
    staff_client.force_login(handler_a)
    response = staff_client.get(action(request, "mandate"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 mandate"
    assert request.events.filter(action=RequestEvent.Action.MANDATE_VIEWED, actor=handler_a).exists()
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__purpose="mandate").exists()


def test_opening_a_request_is_logged_per_register(staff_client, register_a, handler_a):
    request = steps.confirmed(register_a)
    staff_client.force_login(handler_a)
    staff_client.get(detail(request))
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(request.pk)).get()
    assert entry.actor == handler_a
    assert entry.additional_data["register"] == register_a.pk


def test_staff_download_of_the_package_is_logged(
    staff_client, register_a, handler_a, owner_a, private_media, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.answered(register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)])
    staff_client.force_login(owner_a)
    response = staff_client.get(reverse("privacy:request-package", kwargs={"code": request.code, "fmt": "exe"}))
    assert response.status_code == 404
    response = staff_client.get(reverse("privacy:request-package", kwargs={"code": request.code, "fmt": "pdf"}))
    assert response.status_code == 200
    download = PackageDownload.objects.get()
    assert (download.fmt, download.by_requester, download.actor) == ("pdf", False, owner_a)


def test_monthly_figures_count_received_in_time_late_and_refused(
    staff_client, register_a, register_b, handler_a, owner_a
):
    steps.answered(register_a, handler_a, owner_a)
    late = services_intake(handler_a, register_a, days_ago=40)
    assert late.legal_due_at < timezone.now()
    steps.confirmed(register_b)
    staff_client.force_login(owner_a)
    response = staff_client.get(reverse("privacy:figures"))
    rows = response.context["rows"]
    by_register = {(r["register"].pk, r["month"].date().replace(day=1)) for r in rows}
    assert all(pk == register_a.pk for pk, _month in by_register)
    assert sum(r["received"] for r in rows) == 2
    assert sum(r["answered_in_time"] for r in rows) == 1
    assert sum(r["late"] for r in rows) == 1
    assert sum(r["refused"] for r in rows) == 0


def test_script_in_a_request_is_escaped_on_the_staff_page(staff_client, register_a, handler_a):
    request = steps.confirmed(register_a, name="<script>alert(1)</script>", details="<b onmouseover=x>hi</b>")
    staff_client.force_login(handler_a)
    html = staff_client.get(detail(request)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b onmouseover" not in html


def test_a_closed_request_moves_only_by_the_table(register_a, handler_a, owner_a):
    request = steps.answered(register_a, handler_a, owner_a)
    request = request_transition(request=request, to=State.CLOSED, actor=handler_a)
    assert request.closed_at is not None


def test_the_home_page_links_the_queue_only_for_request_staff(staff_client, register_a, handler_a, staff_a):
    staff_client.force_login(handler_a)
    assert reverse("privacy:queue") in staff_client.get(reverse("home")).content.decode()
    staff_client.force_login(staff_a)
    assert reverse("privacy:queue") not in staff_client.get(reverse("home")).content.decode()


STEP_FORM_URLS = {
    "verify": "privacy:request-verify",
    "cannot_identify": "privacy:request-cannot-identify",
    "prepare": "privacy:request-prepare",
    "approve": "privacy:request-approve",
    "duplicate": "privacy:request-duplicate",
}


@pytest.mark.parametrize("state", State.values)
def test_the_page_offers_a_step_form_exactly_where_the_workflow_table_allows_its_move(staff_client, register_a, state):
    user = UserFactory()
    grant(user, register_a, Role.OWNER)
    grant(user, register_a, Role.HANDLER)
    request = steps.submit(register_a)
    # Put the request straight into the state (past the workflow's guard on
    # update): the page, not the path to it, is under test.
    models.QuerySet.update(DataSubjectRequest.objects.filter(pk=request.pk), state=state)
    staff_client.force_login(user)
    html = staff_client.get(detail(request)).content.decode()
    assert set(STEP_FORM_URLS) == set(workflow.FORM_MOVES)
    for action, url_name in STEP_FORM_URLS.items():
        offered = f'action="{reverse(url_name, kwargs={"code": request.code})}"' in html
        assert offered == (workflow.FORM_MOVES[action] in workflow.TRANSITIONS[state]), action
