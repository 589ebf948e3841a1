import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from registers import access_review as ar
from registers import accounts
from registers.access_log import log_access
from registers.models import AccessReview, AccessReviewItem, AccessReviewStatusChange, Membership, Role
from registers.selectors import register_list
from registers.services import main_users_group_ensure

from ..conftest import grant
from ..factories import CustomerFactory, RegisterFactory, UserFactory

pytestmark = pytest.mark.django_db
KEEP, REVOKE = AccessReviewItem.Decision.KEEP, AccessReviewItem.Decision.REVOKE


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def review(register_a, owner_a, staff_a, readonly_a):
    return ar.access_review_open(register=register_a, actor=owner_a)


def item_of(review, user):
    return review.items.get(user=user)


def test_a_review_lists_every_user_with_an_active_role(review, owner_a, staff_a, readonly_a, staff_b):
    assert set(review.items.values_list("user__username", flat=True)) == {"owner_a", "staff_a", "readonly_a"}
    assert review.status == AccessReview.Status.OPEN
    assert review.due_at - review.opened_at == datetime.timedelta(days=30)


def test_an_item_shows_roles_grantor_last_login_access_and_commitment(register_a, owner_a, staff_a, main_user):
    grant(staff_a, register_a, Role.HANDLER, actor=owner_a)
    staff_a.last_login = timezone.now() - datetime.timedelta(days=3)
    staff_a.save()
    request = RequestFactory().get("/")
    request.user = staff_a
    log_access(request, CustomerFactory(register=register_a))
    commitment = accounts.commitment_publish(
        actor=main_user, organisation=register_a.organisation, text_fi="a", text_sv="a", text_en="a"
    )
    accounts.commitment_accept(user=staff_a, commitment=commitment, remote_addr=None)

    item = item_of(ar.access_review_open(register=register_a, actor=owner_a), staff_a)

    assert [(r["role"], r["granted_by"]) for r in item.roles] == [("handler", "owner_a"), ("staff", "grantor")]
    assert item.last_login_at == staff_a.last_login
    assert item.last_access_at is not None
    assert item.commitment_version == 1
    assert item.commitment_accepted_at is not None


def test_access_to_another_register_is_not_last_access_here(register_a, register_b, owner_a, staff_a):
    grant(staff_a, register_b, Role.STAFF)
    request = RequestFactory().get("/")
    request.user = staff_a
    log_access(request, CustomerFactory(register=register_b))
    item = item_of(ar.access_review_open(register=register_a, actor=owner_a), staff_a)
    assert item.last_access_at is None


def test_keep_records_who_when_and_keeps_access(review, owner_a, staff_a, register_a):
    item = ar.access_review_item_decide(item=item_of(review, staff_a), decision=KEEP, reason="", actor=owner_a)
    assert (item.decision, item.decided_by) == (KEEP, owner_a)
    assert register_list(user=fresh(staff_a)).filter(pk=register_a.pk).exists()


def test_revoke_ends_every_role_in_the_register_at_once(review, owner_a, staff_a, register_a, register_b):
    grant(staff_a, register_b, Role.STAFF)
    grant(staff_a, register_a, Role.HANDLER)
    ar.access_review_item_decide(
        item=item_of(review, staff_a), decision=REVOKE, reason="Ei enää tehtävissä", actor=owner_a
    )
    staff_a = fresh(staff_a)
    assert list(register_list(user=staff_a)) == [register_b]
    ended = Membership.objects.filter(user=staff_a, register=register_a)
    assert set(ended.values_list("end_reason", flat=True)) == {"Ei enää tehtävissä"}
    assert all(m.ended_by == owner_a for m in ended)
    assert (
        LogEntry.objects.filter(content_type__model="membership", action=LogEntry.Action.UPDATE, actor=owner_a).count()
        == 2
    )


def test_revoke_needs_a_reason(review, owner_a, staff_a, register_a):
    with pytest.raises(ValidationError) as error:
        ar.access_review_item_decide(item=item_of(review, staff_a), decision=REVOKE, reason=" ", actor=owner_a)
    assert ar.ERROR_REASON_FOR_REVOKE in error.value.message_dict["reason"]
    assert register_list(user=fresh(staff_a)).exists()


def test_a_kept_user_can_still_be_revoked_but_a_revoke_is_final(review, owner_a, staff_a):
    item = item_of(review, staff_a)
    ar.access_review_item_decide(item=item, decision=KEEP, reason="", actor=owner_a)
    ar.access_review_item_decide(item=item, decision=REVOKE, reason="Tarkistettu uudelleen", actor=owner_a)
    with pytest.raises(ValidationError):
        ar.access_review_item_decide(item=item, decision=KEEP, reason="", actor=owner_a)
    changes = AccessReviewStatusChange.objects.filter(item=item).values_list("old", "new", "actor", "reason")
    assert list(changes) == [
        ("pending", "keep", owner_a.pk, ""),
        ("keep", "revoke", owner_a.pk, "Tarkistettu uudelleen"),
    ]


@pytest.mark.parametrize(("decision", "reason"), [(REVOKE, "x"), (KEEP, "")])
def test_the_owner_cannot_decide_on_their_own_access(review, owner_a, decision, reason):
    item = item_of(review, owner_a)
    with pytest.raises(ValidationError) as error:
        ar.access_review_item_decide(item=item, decision=decision, reason=reason, actor=owner_a)
    assert ar.ERROR_SELF_DECIDE in error.value.messages
    item.refresh_from_db()
    assert item.decision == AccessReviewItem.Decision.PENDING


def test_a_main_user_decides_on_an_owners_access(review, owner_a, main_user):
    ar.access_review_item_decide(item=item_of(review, owner_a), decision=KEEP, reason="", actor=main_user)
    assert item_of(review, owner_a).decided_by == main_user


def test_another_owner_decides_on_an_owners_access(register_a, owner_a):
    second = UserFactory(username="owner_a2")
    grant(second, register_a, Role.OWNER)
    review = ar.access_review_open(register=register_a, actor=owner_a)
    ar.access_review_item_decide(item=item_of(review, owner_a), decision=KEEP, reason="", actor=second)
    ar.access_review_item_decide(item=item_of(review, second), decision=KEEP, reason="", actor=owner_a)
    assert ar.access_review_complete(review=review, actor=owner_a).status == AccessReview.Status.COMPLETED


@pytest.mark.parametrize("persona", ["staff_a", "handler_a", "staff_b"])
def test_only_an_owner_decides(request, review, staff_a, persona):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        ar.access_review_item_decide(item=item_of(review, staff_a), decision=KEEP, reason="", actor=actor)


def test_a_review_completes_only_when_everybody_is_decided(review, owner_a, staff_a, readonly_a, main_user):
    with pytest.raises(ValidationError) as error:
        ar.access_review_complete(review=review, actor=owner_a)
    assert ar.ERROR_NOT_ALL_DECIDED in error.value.messages
    ar.access_review_item_decide(item=item_of(review, staff_a), decision=KEEP, reason="", actor=owner_a)
    ar.access_review_item_decide(item=item_of(review, owner_a), decision=KEEP, reason="", actor=main_user)
    ar.access_review_item_decide(item=item_of(review, readonly_a), decision=REVOKE, reason="Siirtyi", actor=owner_a)
    review = ar.access_review_complete(review=review, actor=owner_a)
    assert (review.status, review.completed_by) == (AccessReview.Status.COMPLETED, owner_a)
    assert list(review.status_changes.filter(item=None).values_list("old", "new")) == [
        ("", "open"),
        ("open", "completed"),
    ]


def test_a_completed_review_cannot_change(review, owner_a, staff_a, readonly_a):
    complete_all(review, owner_a)
    with pytest.raises(ValidationError) as error:
        ar.access_review_item_decide(item=item_of(review, staff_a), decision=REVOKE, reason="x", actor=owner_a)
    assert ar.ERROR_REVIEW_CLOSED in error.value.messages
    with pytest.raises(ValidationError):
        ar.access_review_transition(review=review, to=AccessReview.Status.COMPLETED, actor=owner_a)


def test_one_open_review_per_register(review, register_a, owner_a):
    with pytest.raises(ValidationError):
        ar.access_review_open(register=register_a, actor=owner_a)


def test_a_staff_user_cannot_open_a_review(register_a, staff_a):
    with pytest.raises(PermissionDenied):
        ar.access_review_open(register=register_a, actor=staff_a)


def complete_all(review, owner):
    # An owner's own access is decided by a main user.
    main_user = UserFactory(username=f"main_{review.pk}")
    main_user.groups.add(main_users_group_ensure())
    for item in review.items.exclude(decision=KEEP):
        decider = main_user if item.user_id == owner.pk else owner
        ar.access_review_item_decide(item=item, decision=KEEP, reason="", actor=decider)
    return ar.access_review_complete(review=review, actor=owner)


def test_the_schedule_opens_a_review_for_a_register_that_never_had_one(register_a, owner_a):
    opened = ar.access_reviews_open_due()
    assert [r.register for r in opened] == [register_a]
    assert opened[0].opened_by is None
    assert ar.access_reviews_open_due() == []


def test_the_schedule_waits_twelve_months_after_the_last_completed_review(register_a, owner_a):
    complete_all(ar.access_review_open(register=register_a, actor=owner_a), owner_a)
    now = timezone.now()
    assert ar.access_reviews_open_due(now=now + datetime.timedelta(days=360)) == []
    opened = ar.access_reviews_open_due(now=now + datetime.timedelta(days=370))
    assert [r.register for r in opened] == [register_a]


def test_the_interval_is_a_setting(settings, register_a, owner_a):
    settings.ACCESS_REVIEW_INTERVAL_MONTHS = 6
    complete_all(ar.access_review_open(register=register_a, actor=owner_a), owner_a)
    assert ar.access_reviews_open_due(now=timezone.now() + datetime.timedelta(days=190))


def test_overdue_reviews_are_found(review):
    assert not AccessReview.objects.overdue().exists()
    assert AccessReview.objects.overdue(now=review.due_at + datetime.timedelta(minutes=1)).get() == review
    assert not review.is_overdue


def test_owners_are_reminded_once_per_interval(review, owner_a, register_a, django_capture_on_commit_callbacks):
    second_owner = UserFactory(username="owner2", email="owner2@example.fi")
    grant(second_owner, register_a, Role.OWNER)
    not_yet = review.due_at - datetime.timedelta(days=20)
    assert ar.access_reviews_send_reminders(now=not_yet) == 0
    soon = review.due_at - datetime.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert ar.access_reviews_send_reminders(now=soon) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["owner2@example.fi", "owner_a@example.fi"]
    assert review.get_absolute_url() in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert ar.access_reviews_send_reminders(now=soon + datetime.timedelta(days=1)) == 0
        assert ar.access_reviews_send_reminders(now=soon + datetime.timedelta(days=8)) == 1
    assert len(mail.outbox) == 4


def test_a_reminder_is_not_sent_if_the_transaction_rolls_back(review, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ar.access_reviews_send_reminders(now=review.due_at)
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_register_part_gets_its_own_review(db):
    parent = RegisterFactory(slug="helsinki")
    part = RegisterFactory(slug="matkailu", parent=parent)
    assert {r.register for r in ar.access_reviews_open_due()} == {parent, part}
