"""The demo's privacy work: requests in several states, consents and disclosures (privacy/demo.py)."""

import itertools

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.requests.selectors import request_queue
from privacy.rights.models import ConsentRecord, Disclosure

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_handler_starts_the_day_with_requests_in_every_stage():
    call_command("load_demo")
    handler = get_user_model().objects.get(username="hki.tourism.handler")
    queue = list(request_queue(user=handler))
    assert len(queue) >= 3
    assert {State.TRIAGE, State.IN_PROGRESS, State.REVIEW} <= {r.state for r in queue}
    # One request is past the register's one-week promise, none past the legal month.
    now = timezone.now()
    assert any(r.service_due_at < now for r in queue)
    assert all(r.legal_due_at > now for r in queue)
    every = DataSubjectRequest.objects.all()
    assert {State.RESPONDED, State.WITHDRAWN, State.ON_HOLD, State.VERIFYING} <= {r.state for r in every}
    assert len({r.kind for r in every}) >= 4
    for request in every:
        # The deadlines were counted from the day the letter, call or visit came in.
        assert request.received_at < now
        assert request.legal_due_at == timezone.localtime(request.received_at) + relativedelta(months=1)
        # The trail starts at receipt and ends in the request's state, one legal move after another.
        moves = list(request.events.filter(action=RequestEvent.Action.TRANSITION).order_by("at", "pk"))
        assert moves[0].from_state == ""
        assert moves[-1].to_state == request.state
        assert all(a.to_state == b.from_state for a, b in itertools.pairwise(moves))
    answered = every.get(state=State.RESPONDED)
    assert answered.approved_by != answered.prepared_by
    assert answered.packages.get().released_at is not None
    # Requests with an e-mail address got their letters.
    assert every.filter(correspondence__isnull=False).exists()


def test_the_demo_has_consents_and_disclosures_and_loads_them_once():
    call_command("load_demo")
    assert ConsentRecord.objects.filter(withdrawn_at__isnull=True).count() >= 5
    assert ConsentRecord.objects.filter(withdrawn_at__isnull=False).exists()
    assert Disclosure.objects.values("register").distinct().count() == 2
    counts = (DataSubjectRequest.objects.count(), ConsentRecord.objects.count(), Disclosure.objects.count())
    call_command("load_demo_privacy")
    assert (DataSubjectRequest.objects.count(), ConsentRecord.objects.count(), Disclosure.objects.count()) == counts
