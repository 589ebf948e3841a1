"""Retention policies: what is due for purging, and what holds it back.

One `RetentionPolicy` per kind of record. Each answers, for one register at one moment, the queryset of records
past retention annotated with one boolean per hold type; `retention_preview` aggregates it into counts and
`privacy.purge` deletes the rows where no hold is set. The periods come from `Register.retention_months` (the
value the public description states) and from settings.
"""

import dataclasses
import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from crm.models import CallRecording, ContactCentreMessage, Customer, Invoice
from privacy.requests.models import DataSubjectRequest, SubjectMatch
from registers.models import Register

from .models import HoldType, LegalHold, PurgeKind


def _hold_field(hold: str) -> str:
    return f"hold_{hold}"


def _open_request_matches(exclude_request=None):
    matches = SubjectMatch.objects.filter(request__state__in=DataSubjectRequest.OPEN_STATES)
    # An erasure request does not hold back its own records (privacy.erasure).
    return matches.exclude(request=exclude_request) if exclude_request is not None else matches


def register_hold_active(register: Register, today: datetime.date) -> bool:
    """Tell whether a register-wide legal hold is in force."""
    return LegalHold.objects.active(on=today).filter(register=register, scope=LegalHold.Scope.REGISTER).exists()


@dataclasses.dataclass(frozen=True)
class RetentionPolicy:
    kind: str
    holds: tuple[str, ...]

    def applies_to(self, register: Register) -> bool:
        raise NotImplementedError

    def due(self, register: Register, now: datetime.datetime) -> QuerySet:
        """Return the records past retention, held or not."""
        raise NotImplementedError

    def hold_annotations(self, register: Register, today: datetime.date) -> dict:
        raise NotImplementedError

    def annotated(self, register: Register, now: datetime.datetime) -> QuerySet:
        """Return the due records with one boolean annotation per hold type."""
        return self.due(register, now).annotate(**self.hold_annotations(register, timezone.localdate(now)))

    def purgeable(self, register: Register, now: datetime.datetime) -> QuerySet:
        """Return the due records no hold keeps."""
        return self.annotated(register, now).filter(**{_hold_field(hold): False for hold in self.holds})


class CustomerPolicy(RetentionPolicy):
    """A customer inactive for the register's period goes with its contact persons, history and invoices."""

    def applies_to(self, register):
        return register.kind == Register.Kind.CUSTOMER and register.retention_months is not None

    def due(self, register, now):
        if not self.applies_to(register):
            return Customer.objects.none()
        cutoff = now - relativedelta(months=register.retention_months)
        return Customer.objects.filter(register=register).inactive_since(cutoff)

    def hold_annotations(self, register, today, *, exclude_request=None):
        # Seed 003: an open invoice or a debt in collection blocks erasure.
        invoice = Invoice.objects.filter(
            customer=OuterRef("pk"), status__in=[Invoice.Status.OPEN, Invoice.Status.IN_COLLECTION]
        )
        request = _open_request_matches(exclude_request).filter(
            Q(customer=OuterRef("pk")) | Q(contact_person__customer=OuterRef("pk"))
        )
        if register_hold_active(register, today):
            legal = Value(True, output_field=BooleanField())
        else:
            legal = Exists(
                LegalHold.objects.active(on=today).filter(scope=LegalHold.Scope.CUSTOMER, customer=OuterRef("pk"))
            )
        return {
            _hold_field(HoldType.OPEN_INVOICE): Exists(invoice),
            _hold_field(HoldType.OPEN_REQUEST): Exists(request),
            _hold_field(HoldType.LEGAL_HOLD): legal,
        }


class CallRecordingPolicy(RetentionPolicy):
    """Seed 004: call-recording metadata is kept six months (CALL_RECORDING_RETENTION_MONTHS), then destroyed."""

    def applies_to(self, register):
        return register.kind == Register.Kind.CONTACT_CENTRE

    def due(self, register, now):
        if not self.applies_to(register):
            return CallRecording.objects.none()
        cutoff = now - relativedelta(months=settings.CALL_RECORDING_RETENTION_MONTHS)
        return CallRecording.objects.filter(register=register, recorded_at__lt=cutoff)

    def hold_annotations(self, register, today):
        return {_hold_field(HoldType.LEGAL_HOLD): Value(register_hold_active(register, today), BooleanField())}


class MessagePolicy(RetentionPolicy):
    """Seed 004: messages are kept while the ordering department is a client, then for a grace period."""

    def applies_to(self, register):
        return register.kind == Register.Kind.CONTACT_CENTRE

    def due(self, register, now):
        if not self.applies_to(register):
            return ContactCentreMessage.objects.none()
        ended_before = timezone.localdate(now) - datetime.timedelta(days=settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS)
        return ContactCentreMessage.objects.filter(register=register, ordering_client__active_until__lt=ended_before)

    def hold_annotations(self, register, today):
        return {
            _hold_field(HoldType.OPEN_REQUEST): Exists(_open_request_matches().filter(message=OuterRef("pk"))),
            _hold_field(HoldType.LEGAL_HOLD): Value(register_hold_active(register, today), BooleanField()),
        }


POLICIES: dict[str, RetentionPolicy] = {
    PurgeKind.CUSTOMER: CustomerPolicy(
        kind=PurgeKind.CUSTOMER, holds=(HoldType.OPEN_INVOICE, HoldType.OPEN_REQUEST, HoldType.LEGAL_HOLD)
    ),
    PurgeKind.CALL_RECORDING: CallRecordingPolicy(kind=PurgeKind.CALL_RECORDING, holds=(HoldType.LEGAL_HOLD,)),
    PurgeKind.CONTACT_CENTRE_MESSAGE: MessagePolicy(
        kind=PurgeKind.CONTACT_CENTRE_MESSAGE, holds=(HoldType.OPEN_REQUEST, HoldType.LEGAL_HOLD)
    ),
}


def policies_for(register: Register) -> list[RetentionPolicy]:
    """Return the retention policies that apply to a register (none when it has no retention rule)."""
    return [policy for policy in POLICIES.values() if policy.applies_to(register)]


@dataclasses.dataclass
class PreviewRow:
    kind: str
    due: int
    purgeable: int
    held: dict[str, int]

    @property
    def label(self) -> str:
        return PurgeKind(self.kind).label


def retention_counts(policy: RetentionPolicy, register: Register, now: datetime.datetime) -> PreviewRow:
    """Count, in one query, the records due, those a run would purge, and those each hold type keeps."""
    no_hold = Q(**{_hold_field(hold): False for hold in policy.holds})
    aggregates = {"due": Count("pk"), "purgeable": Count("pk", filter=no_hold)}
    for hold in policy.holds:
        aggregates[hold] = Count("pk", filter=Q(**{_hold_field(hold): True}))
    counts = policy.annotated(register, now).order_by().aggregate(**aggregates)
    return PreviewRow(
        kind=policy.kind,
        due=counts["due"],
        purgeable=counts["purgeable"],
        held={hold: counts[hold] for hold in policy.holds if counts[hold]},
    )


def retention_preview(*, register: Register, now: datetime.datetime | None = None) -> list[PreviewRow]:
    """Return what the next purge run would do in a register, per kind of record."""
    now = now or timezone.now()
    return [retention_counts(policy, register, now) for policy in policies_for(register)]


def retention_due_customers(*, register: Register, now: datetime.datetime | None = None) -> QuerySet[Customer]:
    """Return the customers past retention with their hold flags, oldest activity first (for the preview list)."""
    now = now or timezone.now()
    policy = POLICIES[PurgeKind.CUSTOMER]
    return policy.annotated(register, now).order_by("last_activity_at", "pk")


def request_files_due(*, now: datetime.datetime | None = None) -> QuerySet[DataSubjectRequest]:
    """Return closed data-subject request files older than DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.DATA_SUBJECT_REQUEST_FILE_RETENTION_DAYS)
    return DataSubjectRequest.objects.exclude(state__in=DataSubjectRequest.OPEN_STATES).filter(closed_at__lt=cutoff)
