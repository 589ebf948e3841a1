"""Fill a benchmark register with generated data-subject requests, most of them finished.

Each request names a customer of the register as its requester (so that a subject search finds them),
concerns that register, carries its arrival event and, when it has moved on, the event of its last
step. Rows are inserted in batches with bulk_create, which skips the workflow's save() on purpose: the
states are set as they would stand after the workflow. For benchmark databases only, never for real
registers (`manage.py generate_data` makes the customers first).
"""

import datetime
import random
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.models import Customer
from privacy.models import DataSubjectRequest, ReferenceCounter, RequestEvent, RequestRegister
from registers.models import Register

BATCH = 1000
State = DataSubjectRequest.State
# Where open requests stand (the share of each among the open ones).
OPEN = [
    (State.RECEIVED, 0.1),
    (State.VERIFYING, 0.2),
    (State.TRIAGE, 0.15),
    (State.IN_PROGRESS, 0.35),
    (State.ON_HOLD, 0.05),
    (State.REVIEW, 0.15),
]
# How finished requests ended.
FINISHED = [
    (State.CLOSED, 0.75),
    (State.RESPONDED, 0.05),
    (State.WITHDRAWN, 0.05),
    (State.DUPLICATE, 0.04),
    (State.CANNOT_IDENTIFY, 0.04),
    (State.REFUSED, 0.04),
    (State.PARTLY_REFUSED, 0.03),
]
KINDS = [
    (DataSubjectRequest.Kind.ACCESS, 0.55),
    (DataSubjectRequest.Kind.ERASURE, 0.15),
    (DataSubjectRequest.Kind.RECTIFICATION, 0.1),
    (DataSubjectRequest.Kind.OBJECTION, 0.1),
    (DataSubjectRequest.Kind.RESTRICTION, 0.04),
    (DataSubjectRequest.Kind.PORTABILITY, 0.03),
    (DataSubjectRequest.Kind.CONSENT_WITHDRAWAL, 0.03),
]
CHANNELS = [
    (DataSubjectRequest.Channel.WEB, 0.7),
    (DataSubjectRequest.Channel.EMAIL, 0.2),
    (DataSubjectRequest.Channel.POST, 0.05),
    (DataSubjectRequest.Channel.PHONE, 0.05),
]


def pick(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


class Command(BaseCommand):
    help = "Generate N data-subject requests for a benchmark register, most of them finished (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, required=True)
        parser.add_argument("--register", default="benchmark", help="slug of the register the requests concern")
        parser.add_argument("--open-share", type=float, default=0.1, help="share of requests still open")
        parser.add_argument("--seed", type=int, default=2)

    def handle(self, *args, requests, register, open_share, seed, **options):
        if requests < 1 or not 0 <= open_share <= 1:
            raise CommandError("Give a positive number of requests and a share from 0 to 1.")
        target = Register.objects.filter(slug=register).select_related("organisation").first()
        if target is None:
            raise CommandError(f"No register '{register}': run generate_data first.")
        customers = Customer.objects.filter(register=target)
        keys = list(customers.values_list("pk", flat=True))  # 100,000 integers: a few megabytes.
        if not keys:
            raise CommandError(f"Register '{register}' has no customers: run generate_data first.")
        started = time.monotonic()
        rng = random.Random(seed)  # nosec B311
        now = timezone.now()
        made = 0
        states = Counter()
        for start in range(0, requests, BATCH):
            size = min(BATCH, requests - start)
            # Requesters: customers of the register picked at random (one query per batch).
            people = self._requesters(customers, [rng.choice(keys) for _ in range(size)])
            with transaction.atomic():
                rows = [self._request(rng, target, people[n], now, open_share) for n in range(size)]
                self._number(rows)
                DataSubjectRequest.objects.bulk_create(rows, batch_size=BATCH)
                RequestRegister.objects.bulk_create(
                    [RequestRegister(request=row, register=target) for row in rows], batch_size=BATCH
                )
                RequestEvent.objects.bulk_create(self._events(rows, target.slug), batch_size=BATCH)
            made += size
            states.update(row.state for row in rows)
            self.stdout.write(f"  {made} requests", ending="\r")
            self.stdout.flush()
        summary = ", ".join(f"{state} {count}" for state, count in states.most_common())
        self.stdout.write(
            f"\nGenerated {made} requests for '{target.slug}' in {time.monotonic() - started:.1f} s ({summary})."
        )

    @staticmethod
    def _requesters(customers, keys: list[int]) -> list[Customer]:
        fields = ("kind", "first_name", "last_name", "organisation_name", "email", "mobile")
        found = customers.only(*fields).in_bulk(set(keys))
        return [found[key] for key in keys]

    @staticmethod
    def _request(rng, register, customer, now, open_share) -> DataSubjectRequest:
        is_open = rng.random() < open_share
        state = pick(rng, OPEN if is_open else FINISHED)
        # Open requests arrived within the last five weeks, finished ones within two years.
        received = now - datetime.timedelta(
            days=rng.randint(0, 35) if is_open else rng.randint(35, 730), minutes=rng.randint(0, 1440)
        )
        name = (
            f"{customer.first_name} {customer.last_name}".strip()
            if customer.kind == Customer.Kind.PERSON
            else customer.organisation_name
        )
        request = DataSubjectRequest(
            organisation=register.organisation,
            kind=pick(rng, KINDS),
            channel=pick(rng, CHANNELS),
            requester_name=name or "Tuntematon",
            requester_email=customer.email,
            requester_phone=customer.mobile,
            language=rng.choice(["fi", "fi", "fi", "sv", "en"]),
            state=state,
            created_at=received,
            received_at=received,
            email_confirmed_at=None if state == State.RECEIVED else received + datetime.timedelta(minutes=20),
            service_due_at=received + datetime.timedelta(days=register.access_answer_days),
            legal_due_at=received + datetime.timedelta(days=30),
        )
        if not is_open:
            finished = received + datetime.timedelta(days=rng.randint(1, 28), hours=rng.randint(0, 8))
            request.closed_at = finished
            if state in DataSubjectRequest.ANSWER_STATES or state == State.CLOSED:
                request.responded_at = finished
                request.outcome = State.RESPONDED if state == State.CLOSED else state
        return request

    @staticmethod
    def _number(rows: list[DataSubjectRequest]) -> None:
        """Give each request the next reference number of its year, as the workflow's counter would."""
        by_year: dict[int, list[DataSubjectRequest]] = {}
        for row in sorted(rows, key=lambda row: row.received_at):
            by_year.setdefault(row.received_at.year, []).append(row)
        for year, rows_of_year in by_year.items():
            ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
            ReferenceCounter.objects.select_for_update().filter(year=year).update(last=F("last") + len(rows_of_year))
            last = ReferenceCounter.objects.get(year=year).last
            for number, row in enumerate(rows_of_year, start=last - len(rows_of_year) + 1):
                row.reference = f"DSR-{year}-{number:06d}"

    @staticmethod
    def _events(rows: list[DataSubjectRequest], slug: str) -> list[RequestEvent]:
        events = []
        for row in rows:
            events.append(
                RequestEvent(
                    request=row,
                    at=row.received_at,
                    from_state="",
                    to_state=State.RECEIVED,
                    payload={"registers": [slug], "channel": row.channel},
                )
            )
            if row.state != State.RECEIVED:
                events.append(
                    RequestEvent(
                        request=row,
                        at=row.closed_at or row.email_confirmed_at,
                        from_state=State.RECEIVED if row.closed_at is None else State.IN_PROGRESS,
                        to_state=row.state,
                    )
                )
        return events
