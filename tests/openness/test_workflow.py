"""Document requests (Act 621/1999): the clock of 14 §, every move of the state machine through the services,
the refusal path of 14(3) §, and who may do what."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from openness import services
from openness.models import DocumentRequest, DocumentRequestEvent
from openness.workflow import MACHINE, TRANSITIONS, deadline_for
from registers.models import Role

from ..conftest import grant
from ..factories import RegisterFactory, UserFactory

State = DocumentRequest.State
Outcome = DocumentRequest.Outcome
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    ("received", "extended", "last_day"),
    [
        (at(2026, 12, 1, 9, 0), False, datetime.date(2026, 12, 15)),
        (at(2026, 12, 25, 23, 30), False, datetime.date(2027, 1, 8)),  # over the turn of the year
        (at(2028, 2, 20, 12, 0), False, datetime.date(2028, 3, 5)),  # over a leap day
        (at(2027, 2, 20, 12, 0), False, datetime.date(2027, 3, 6)),
        (at(2026, 12, 1, 0, 10), True, datetime.date(2027, 1, 1)),
        (at(2027, 1, 31, 10, 0), True, datetime.date(2027, 2, 28)),  # to the last day of a shorter month
        (at(2028, 1, 31, 10, 0), True, datetime.date(2028, 2, 29)),  # a leap year's February
        (at(2026, 3, 31, 10, 0), True, datetime.date(2026, 4, 30)),
        (at(2026, 10, 20, 0, 30), False, datetime.date(2026, 11, 3)),  # received just after midnight, local time
    ],
)
def test_the_clock_is_two_weeks_or_one_month_in_local_days(received, extended, last_day):
    due = deadline_for(received_at=received.astimezone(datetime.UTC), extended=extended)
    local = timezone.localtime(due)
    assert local.date() == last_day
    assert (local.hour, local.minute) == (23, 59)


@pytest.fixture
def register(db):
    return RegisterFactory()


@pytest.fixture
def handler(register):
    user = UserFactory()
    grant(user, register, Role.HANDLER)
    return user


@pytest.fixture
def owner(register):
    user = UserFactory()
    grant(user, register, Role.OWNER)
    return user


def submit(register, **data):
    fields = {"request_text": "Luettelo yrityksistä, joita elinkeinoyksikkö tapasi lokakuussa 2026.", **data}
    return services.document_request_submit(organisation=register.organisation, registers=[], data=fields)


def test_a_public_request_gets_a_diary_number_and_two_weeks(register):
    first, second = submit(register), submit(register)
    year = timezone.localdate().year
    assert (first.diary_number, second.diary_number) == (f"DOC-{year}-000001", f"DOC-{year}-000002")
    assert first.state == State.RECEIVED
    assert timezone.localtime(first.due_at).date() == timezone.localdate() + datetime.timedelta(days=14)
    assert first.events.get().payload == {"channel": "web", "registers": []}


def test_personal_data_from_a_register_needs_identity_and_purpose(register):
    data = {"request_text": "Yhteystiedot"}
    with pytest.raises(ValidationError) as error:
        services.document_request_submit(organisation=register.organisation, registers=[register], data=data)
    assert "purpose" in error.value.message_dict
    request = services.document_request_submit(
        organisation=register.organisation,
        registers=[register],
        data={
            **data,
            "requester_name": "Tutkija",
            "purpose": "Väitöstutkimus",
            "recipient_legal_basis": "GDPR 6(1)(e)",
        },
    )
    assert list(request.registers.all()) == [register]


def test_a_register_of_another_authority_is_refused(register):
    other = RegisterFactory()
    with pytest.raises(ValidationError):
        services.document_request_submit(
            organisation=register.organisation,
            registers=[other],
            data={"request_text": "x", "requester_name": "N", "purpose": "p"},
        )


def walk(request, handler, owner, path):
    """Take the request along `path`, a list of target states, through the services."""
    moves = {
        State.IN_REVIEW: lambda r: services.document_request_take_up(actor=handler, request=r),
        State.ANSWERED: lambda r: (
            services.document_request_decide(actor=owner, request=r, outcome=Outcome.REFUSED, text="Salassa pidettävä")
            if r.state == State.DECISION_PENDING
            else services.document_request_answer(actor=handler, request=r, outcome=Outcome.GRANTED, delivery="email")
        ),
        State.AWAITING_CHOICE: lambda r: services.document_request_refuse(
            actor=handler, request=r, reason="JulkL 24 §"
        ),
        State.DECISION_PENDING: lambda r: services.document_request_choice_record(
            actor=handler, request=r, wanted="yes"
        ),
        State.CLOSED: lambda r: (
            services.document_request_choice_record(actor=handler, request=r, wanted="no_reply")
            if r.state == State.AWAITING_CHOICE
            else services.document_request_close(actor=handler, request=r)
        ),
        State.WITHDRAWN: lambda r: services.document_request_withdraw(actor=handler, request=r),
        State.TRANSFERRED: lambda r: services.document_request_transfer(actor=handler, request=r, to_authority="PRH"),
    }
    for target in path:
        request = moves[target](request)
        assert request.state == target
    return request


# Every legal move is made once by a path from receipt; every illegal one is refused by the machine.
PATHS = [
    [State.IN_REVIEW, State.ANSWERED, State.CLOSED],
    [State.IN_REVIEW, State.AWAITING_CHOICE, State.DECISION_PENDING, State.ANSWERED, State.CLOSED],
    [State.IN_REVIEW, State.AWAITING_CHOICE, State.CLOSED],
    [State.IN_REVIEW, State.AWAITING_CHOICE, State.WITHDRAWN],
    [State.IN_REVIEW, State.AWAITING_CHOICE, State.DECISION_PENDING, State.WITHDRAWN],
    [State.IN_REVIEW, State.TRANSFERRED],
    [State.IN_REVIEW, State.WITHDRAWN],
    [State.WITHDRAWN],
    [State.TRANSFERRED],
]


def test_the_paths_cover_every_legal_move():
    covered = set()
    for path in PATHS:
        source = State.RECEIVED
        for target in path:
            covered.add((source, target))
            source = target
    legal = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert covered == legal


@pytest.mark.parametrize("path", PATHS, ids=lambda path: "-".join(path))
def test_every_legal_path_through_the_services(register, handler, owner, path):
    request = walk(submit(register), handler, owner, path)
    transitions = list(request.events.filter(action=DocumentRequestEvent.Action.TRANSITION).order_by("at", "id"))
    assert [event.to_state for event in transitions] == [State.RECEIVED, *path]


@pytest.mark.parametrize("state", list(State))
def test_every_illegal_move_is_refused_and_changes_nothing(register, handler, owner, state):
    path = next(p[: p.index(state) + 1] for p in [[], *PATHS] if state in p) if state != State.RECEIVED else []
    request = walk(submit(register), handler, owner, path)
    # No service moves a request back to "received": that move does not exist to be tried.
    for target in set(State) - MACHINE.targets(state) - {state, State.RECEIVED}:
        with pytest.raises(ValidationError):
            walk(request, handler, owner, [target])
        request.refresh_from_db()
        assert request.state == state


def test_the_refusal_records_its_reason_and_waits_for_the_requesters_choice(register, handler, owner):
    request = walk(submit(register), handler, owner, [State.IN_REVIEW])
    with pytest.raises(ValidationError):
        services.document_request_refuse(actor=handler, request=request, reason=" ")
    request = services.document_request_refuse(actor=handler, request=request, reason="Liikesalaisuus, JulkL 24 § 20 k")
    assert (request.state, request.outcome) == (State.AWAITING_CHOICE, Outcome.REFUSED)
    request = services.document_request_choice_record(actor=handler, request=request, wanted="yes")
    # The handler is not the competent office holder.
    with pytest.raises(PermissionDenied):
        services.document_request_decide(actor=handler, request=request, outcome=Outcome.REFUSED, text="Päätös")
    request = services.document_request_decide(actor=owner, request=request, outcome=Outcome.REFUSED, text="Päätös")
    assert request.decided_by == owner
    assert request.decided_at is not None
    request = services.document_request_appeal_record(actor=handler, request=request, note="HAO 123/2027")
    assert request.appealed
    with pytest.raises(ValidationError):
        services.document_request_appeal_record(actor=handler, request=request)


def test_the_time_is_extended_once_with_a_reason_before_the_two_weeks_end(register, handler, owner):
    request = submit(register)
    with pytest.raises(ValidationError):
        services.document_request_extend(actor=handler, request=request, reason="because")
    request = services.document_request_extend(actor=handler, request=request, reason="many_documents")
    assert request.due_at == deadline_for(received_at=request.received_at, extended=True)
    with pytest.raises(ValidationError):
        services.document_request_extend(actor=handler, request=request, reason="secret_parts")
    late = submit(register)
    DocumentRequest.objects.filter(pk=late.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=20), due_at=timezone.now() - datetime.timedelta(days=6)
    )
    late.refresh_from_db()
    assert late.is_overdue
    with pytest.raises(ValidationError):
        services.document_request_extend(actor=handler, request=late, reason="many_documents")


@pytest.mark.parametrize("role", [Role.STAFF, None])
def test_only_the_authoritys_handlers_act(register, role):
    request = submit(register)
    user = UserFactory()
    if role:
        grant(user, register, role)
    other_handler = UserFactory()
    grant(other_handler, RegisterFactory(), Role.HANDLER)
    for each in (user, other_handler):
        with pytest.raises(PermissionDenied):
            services.document_request_take_up(actor=each, request=request)
    request.refresh_from_db()
    assert request.state == State.RECEIVED


def test_the_history_is_never_rewritten(register):
    event = submit(register).events.get()
    refusals = [
        lambda: event.save(),
        lambda: event.delete(),
        lambda: DocumentRequestEvent.objects.update(reason="x"),
        lambda: DocumentRequestEvent.objects.all().delete(),
        lambda: DocumentRequestEvent.objects.bulk_update([event], ["reason"]),
    ]
    for refuse in refusals:
        with pytest.raises(ValidationError) as error:
            refuse()
        assert error.value.code == "append_only"
    assert DocumentRequestEvent.objects.count() == 1
