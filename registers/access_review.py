"""The yearly access review: a campaign per register in which the owner keeps or revokes every user's access.

Seed 000 requires the register owner to check access rights at least once a
year. A campaign opens automatically `ACCESS_REVIEW_INTERVAL_MONTHS` after the
last completed one, lists every user with an active role, and completes when
every user is decided. A revoke ends the user's roles in the same transaction.

Both the campaign and its items are explicit state machines (registers.state_machine):
the two tables below, one service each that moves them, and an
`AccessReviewStatusChange` row per move.
"""

import datetime

from auditlog.models import LogEntry
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import emails, roles
from .audit_context import set_actor
from .models import (
    AccessReview,
    AccessReviewItem,
    AccessReviewStatusChange,
    CommitmentAcceptance,
    ConfidentialityCommitment,
    Membership,
    Register,
    Role,
)
from .selectors import user_can
from .services import is_main_user, membership_end
from .state_machine import StateMachine

Status = AccessReview.Status
Decision = AccessReviewItem.Decision

CAMPAIGN = StateMachine(
    name="access review",
    states=Status,
    transitions={
        Status.OPEN: frozenset({Status.COMPLETED}),
        Status.COMPLETED: frozenset(),
    },
    illegal_message=_("The review cannot move from %(old)s to %(new)s."),
)
# A kept user may still be revoked while the campaign is open; a revoke is
# final because the roles have already ended.
ITEM = StateMachine(
    name="access review item",
    states=Decision,
    transitions={
        Decision.PENDING: frozenset({Decision.KEEP, Decision.REVOKE}),
        Decision.KEEP: frozenset({Decision.REVOKE}),
        Decision.REVOKE: frozenset(),
    },
    illegal_message=_("The decision cannot change from %(old)s to %(new)s."),
)

ERROR_CANNOT_REVIEW = _("You may not review access in this register.")
ERROR_NOT_ALL_DECIDED = _("Decide on every user before completing the review.")
ERROR_REVIEW_CLOSED = _("This review is completed and can no longer be changed.")
ERROR_REASON_FOR_REVOKE = _("Give a reason for revoking the access.")
ERROR_SELF_DECIDE = _("You cannot decide on your own access; another owner or a main user decides it.")
ERROR_ALREADY_OPEN = _("This register already has an open access review.")


def _interval() -> relativedelta:
    return relativedelta(months=settings.ACCESS_REVIEW_INTERVAL_MONTHS)


def user_access_facts(*, register: Register, user_ids) -> dict[int, dict]:
    """Return, per user, the facts an access review shows: roles, last login and access, commitment.

    Four queries whatever the number of users. Each user's last access to the register is the newest of
    their access entries of it, read by a subquery per user that takes the first row of the index
    logentry_access_actor_register_idx (registers 0013) instead of the maximum over all the register's
    access entries.
    """
    user_ids = list(user_ids)
    newest_access = (
        LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS, actor_id=OuterRef("pk"), additional_data__register=register.pk
        )
        .order_by("-timestamp")
        .values("timestamp")[:1]
    )
    # An integration client's machine user comes with its client (a reverse one-to-one, joined in the same query).
    users = (
        get_user_model()
        .objects.filter(pk__in=user_ids)
        .select_related("api_client__owner")
        .annotate(register_last_access=Subquery(newest_access))
    )
    facts: dict[int, dict] = {
        user.pk: {
            "user": user,
            "roles": [],
            "last_login": user.last_login,
            "last_access": user.register_last_access,
            "commitment": None,
            "client": _client_facts(user),
        }
        for user in users
    }
    by = f"granted_by__{get_user_model().USERNAME_FIELD}"
    memberships = (
        Membership.objects.active()
        .filter(register=register, user_id__in=user_ids)
        .order_by("role")
        .values("user_id", "role", by, "starts_on", "created_at", "ends_on", "grant_reason")
    )
    # Rows rather than objects, and each role's name translated once: a register has hundreds of memberships.
    role_labels = {code: str(label) for code, label in Role.choices}
    for membership in memberships:
        client = facts[membership["user_id"]]["client"]
        facts[membership["user_id"]]["roles"].append(
            {
                "role": membership["role"],
                "role_label": role_labels.get(membership["role"], membership["role"]),
                "granted_by": membership[by] or "",
                "granted_on": membership["starts_on"].isoformat(),
                "granted_at": membership["created_at"].isoformat(),
                "ends_on": membership["ends_on"].isoformat() if membership["ends_on"] else "",
                "reason": membership["grant_reason"],
                # Kept with each role so the evidence shows the client even after it is revoked or renamed.
                **({"client": client} if client else {}),
            }
        )
    acceptances = (
        CommitmentAcceptance.objects.filter(user_id__in=user_ids, commitment__organisation_id=register.organisation_id)
        .select_related("commitment")
        .order_by("user_id", "-commitment__version")
    )
    current = ConfidentialityCommitment.objects.current().filter(organisation_id=register.organisation_id).first()
    for acceptance in acceptances:
        entry = facts[acceptance.user_id]
        if entry["commitment"] is None:
            entry["commitment"] = {
                "version": acceptance.commitment.version,
                "accepted_at": acceptance.accepted_at,
                "is_current": current is not None and acceptance.commitment_id == current.pk,
            }
    return facts


def _client_facts(user) -> dict | None:
    """What the review shows of an integration client instead of a person: None for a person."""
    try:
        client = user.api_client
    except ObjectDoesNotExist:
        return None
    owner = client.owner
    return {
        "name": client.name,
        "owner": owner.get_full_name() or owner.get_username(),
        "owner_username": owner.get_username(),
        "expires_on": client.expires_on.isoformat() if client.expires_on else "",
        "last_used_at": timezone.localtime(client.last_used_at).isoformat() if client.last_used_at else "",
        "revoked": client.revoked,
    }


def _snapshot(item: AccessReviewItem, facts: dict) -> None:
    item.roles = facts["roles"]
    item.last_login_at = facts["last_login"]
    item.last_access_at = facts["last_access"]
    commitment = facts["commitment"]
    item.commitment_accepted_at = commitment["accepted_at"] if commitment else None
    item.commitment_version = commitment["version"] if commitment else None


def _record(*, review, item=None, old: str, new: str, actor, reason: str = "") -> None:
    AccessReviewStatusChange.objects.create(review=review, item=item, old=old, new=new, actor=actor, reason=reason)


@transaction.atomic
def access_review_open(*, register: Register, actor=None, now: datetime.datetime | None = None) -> AccessReview:
    """Open a campaign listing every user with an active role in the register."""
    if actor is not None and not user_can(user=actor, register=register, perm=roles.REVIEW_ACCESS):
        raise PermissionDenied(ERROR_CANNOT_REVIEW)
    Register.objects.select_for_update().get(pk=register.pk)
    if AccessReview.objects.open().filter(register=register).exists():
        raise ValidationError(ERROR_ALREADY_OPEN)
    now = now or timezone.now()
    review = AccessReview(
        register=register,
        opened_at=now,
        opened_by=actor,
        due_at=now + datetime.timedelta(days=settings.ACCESS_REVIEW_DUE_DAYS),
    )
    review.full_clean()
    with set_actor(actor):
        review.save()
    user_ids = set(Membership.objects.active().filter(register=register).values_list("user_id", flat=True))
    facts = user_access_facts(register=register, user_ids=user_ids)
    for user_id in sorted(user_ids):
        item = AccessReviewItem(review=review, user_id=user_id)
        _snapshot(item, facts[user_id])
        item.save()
    _record(review=review, old="", new=Status.OPEN, actor=actor)
    return review


def registers_due_for_review(*, now: datetime.datetime | None = None) -> list[Register]:
    """Return the registers with no open campaign whose last completed one is older than the interval."""
    now = now or timezone.now()
    cutoff = now - _interval()
    registers = (
        Register.objects.exclude(access_reviews__status=Status.OPEN)
        .annotate(last_completed=Max("access_reviews__completed_at"))
        .order_by("pk")
    )
    return [r for r in registers if r.last_completed is None or r.last_completed <= cutoff]


def access_reviews_open_due(*, now: datetime.datetime | None = None) -> list[AccessReview]:
    """Open a campaign for every register that is due one (the yearly schedule)."""
    opened = []
    for register in registers_due_for_review(now=now):
        try:
            opened.append(access_review_open(register=register, now=now))
        except ValidationError:
            # Opened by a person or a concurrent run since the list was read.
            continue
    return opened


@transaction.atomic
def access_review_transition(*, review: AccessReview, to: str, actor, reason: str = "") -> AccessReview:
    """Move a campaign to `to`, refusing moves its table does not allow."""
    review = AccessReview.objects.select_for_update().select_related("register").get(pk=review.pk)
    if not access_review_can_decide(user=actor, register=review.register):
        raise PermissionDenied(ERROR_CANNOT_REVIEW)
    CAMPAIGN.check(review.status, to)
    if to == Status.COMPLETED:
        if review.items.filter(decision=Decision.PENDING).exists():
            raise ValidationError(ERROR_NOT_ALL_DECIDED)
        review.completed_at = timezone.now()
        review.completed_by = actor
    old = review.status
    review.status = to
    review.full_clean()
    with set_actor(actor):
        review.save()
    _record(review=review, old=old, new=to, actor=actor, reason=reason)
    return review


def access_review_complete(*, review: AccessReview, actor) -> AccessReview:
    """Complete a campaign in which every user has been decided."""
    return access_review_transition(review=review, to=Status.COMPLETED, actor=actor)


def access_review_can_decide(*, user, register: Register) -> bool:
    """Tell whether the user may decide items: an owner, or a main user (who decides on owners' own access)."""
    return is_main_user(user) or user_can(user=user, register=register, perm=roles.REVIEW_ACCESS)


@transaction.atomic
def access_review_item_decide(*, item: AccessReviewItem, decision: str, reason: str, actor) -> AccessReviewItem:
    """Keep or revoke one user's access; a revoke ends the user's roles in the register at once."""
    item = AccessReviewItem.objects.select_for_update().select_related("review__register", "user").get(pk=item.pk)
    review = item.review
    register = review.register
    if not access_review_can_decide(user=actor, register=register):
        raise PermissionDenied(ERROR_CANNOT_REVIEW)
    if review.status != Status.OPEN:
        raise ValidationError(ERROR_REVIEW_CLOSED)
    ITEM.check(item.decision, decision)
    # Nobody reviews their own access: another owner or a main user does.
    if item.user_id == actor.pk:
        raise ValidationError(ERROR_SELF_DECIDE)
    reason = reason.strip()
    if decision == Decision.REVOKE and not reason:
        raise ValidationError({"reason": ERROR_REASON_FOR_REVOKE})
    # Facts at the time of the decision are the evidence the owner saw.
    _snapshot(item, user_access_facts(register=register, user_ids=[item.user_id])[item.user_id])
    if decision == Decision.REVOKE:
        open_memberships = Membership.objects.filter(register=register, user=item.user, ended_at__isnull=True)
        for membership in open_memberships:
            membership_end(actor=actor, membership=membership, reason=reason)
    old = item.decision
    item.decision = decision
    item.reason = reason
    item.decided_at = timezone.now()
    item.decided_by = actor
    item.full_clean()
    with set_actor(actor):
        item.save()
    _record(review=review, item=item, old=old, new=decision, actor=actor, reason=reason)
    return item


def _owners(register: Register) -> list:
    memberships = Membership.objects.active().filter(register=register, role=Role.OWNER).select_related("user")
    return [m.user for m in memberships if m.user.is_active]


def access_reviews_send_reminders(*, now: datetime.datetime | None = None) -> int:
    """E-mail the owners of campaigns that are due soon or overdue, at most once per reminder interval."""
    now = now or timezone.now()
    soon = now + datetime.timedelta(days=settings.ACCESS_REVIEW_REMINDER_DAYS)
    not_since = now - datetime.timedelta(days=settings.ACCESS_REVIEW_REMINDER_DAYS)
    sent = 0
    candidates = AccessReview.objects.open().filter(due_at__lte=soon).select_related("register")
    for review in candidates:
        if review.last_reminded_at and review.last_reminded_at > not_since:
            continue
        with transaction.atomic():
            review = AccessReview.objects.select_for_update().select_related("register").get(pk=review.pk)
            # Re-read under the lock: a second beat run must not send twice.
            if review.last_reminded_at and review.last_reminded_at > not_since:
                continue
            owners = _owners(review.register)
            review.last_reminded_at = now
            review.save(update_fields=["last_reminded_at", "updated_at"])
            transaction.on_commit(
                lambda review=review, owners=owners: emails.send_access_review_reminder(
                    review=review, recipients=owners
                )
            )
        sent += 1
    return sent
