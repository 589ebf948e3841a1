"""Fill a register with generated customers, contact persons and interactions for benchmarks.

Rows are built and inserted one batch at a time with bulk_create, so memory
stays flat however many rows are asked for. Generated rows are not written to
the change log as they are inserted (django-auditlog does not see bulk inserts):
`--log-entries N` writes N made-up change and access entries for them afterwards,
with COPY on PostgreSQL. `--users N` adds staff users with roles in the register
(memberships and role groups, as granting does). This command is for benchmark
databases, never for real registers.

Data-subject requests belong to the privacy app, which crm does not import:
`manage.py generate_requests` makes them.
"""

import datetime
import json
import random
import resource
import time

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from stdnum.fi import ytunnus

from crm import demo_customers as demo
from crm.models import ContactPerson, Customer, Interaction
from registers.audit_chain import Reason, chained_bulk_create, links_append
from registers.models import CustomerField, Membership, Organisation, Register, Role
from registers.services import register_role_groups_ensure

BATCH = 5000
USER_PREFIX = "bench.user."
# Roles of the generated users: a register with 200 users has a few owners, some handlers and mostly staff.
USER_ROLES = [(Role.OWNER, 0.02), (Role.HANDLER, 0.1), (Role.STAFF, 1.0)]
# Share of the log entries that record changes; the rest record that someone viewed a customer.
CHANGE_SHARE = 0.5
LOG_COLUMNS = (
    "object_pk",
    "object_id",
    "object_repr",
    "action",
    "changes",
    "changes_text",
    "timestamp",
    "actor_id",
    "actor_email",
    "content_type_id",
    "remote_addr",
    "additional_data",
)


def business_ids(first_body: int):
    """Yield unique valid business IDs in order of their body, skipping bodies that have no valid check digit."""
    body = first_body
    while True:
        for check in "0123456789":
            if ytunnus.is_valid(f"{body:07d}{check}"):
                yield f"{body:07d}-{check}"
        body += 1


class Command(BaseCommand):
    help = "Generate N customers and M interactions into a benchmark register (bulk inserts, batches)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=0)
        parser.add_argument("--interactions", type=int, default=0)
        parser.add_argument("--register", default="benchmark", help="slug of the register to fill (created if new)")
        parser.add_argument(
            "--inactive-share",
            type=float,
            default=0.0,
            help="share of customers whose last activity lies beyond the register's retention period",
        )
        parser.add_argument(
            "--contacts-per-customer",
            type=float,
            default=1.3,
            help="contact persons per customer on average, all of them on organisations (persons have none)",
        )
        parser.add_argument("--users", type=int, default=0, help="staff users with roles in the register to add")
        parser.add_argument(
            "--log-entries", type=int, default=0, help="change and access entries to write for the register's rows"
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, customers, interactions, register, inactive_share, contacts_per_customer, seed, **options):
        users, log_entries = options["users"], options["log_entries"]
        if min(customers, interactions, users, log_entries) < 0 or not 0 <= inactive_share <= 1:
            raise CommandError("Give numbers >= 0 and a share from 0 to 1.")
        if interactions and not customers:
            raise CommandError("Interactions need customers to belong to.")
        register = self._register(register)
        rng = random.Random(seed)  # nosec B311
        if customers:
            self._customers(rng, register, customers, interactions, inactive_share, contacts_per_customer)
        if users:
            self._users(rng, register, users)
        if log_entries:
            self._log_entries(rng, register, log_entries)

    def _report(self, what: str, started: float) -> None:
        elapsed = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"\nGenerated {what} in {elapsed:.1f} s (peak memory {peak_mb:.0f} MB).")

    def _customers(self, rng, register, customers, interactions, inactive_share, contacts_per_customer):
        started = time.monotonic()
        now = timezone.now()
        retention_days = (register.retention_months or 36) * 31
        collected = set(Customer.fields_collected_by(register))
        ids = business_ids(first_body=1000000 + 2 * Customer.objects.filter(register=register).count())
        per_customer = interactions / customers
        made_customers = made_interactions = made_persons = 0
        for start in range(0, customers, BATCH):
            size = min(BATCH, customers - start)
            with transaction.atomic():
                batch = []
                for _ in range(size):
                    values = demo.customer_values(rng, collected=collected)
                    if values["kind"] == Customer.Kind.ORGANISATION:
                        values["business_id"] = next(ids)
                    inactive = rng.random() < inactive_share
                    age = rng.randint(retention_days + 30, retention_days + 900) if inactive else rng.randint(0, 700)
                    values["last_activity_at"] = now - datetime.timedelta(days=age)
                    batch.append(Customer(register=register, **values))
                Customer.objects.bulk_create(batch, batch_size=BATCH)
                made_customers += len(batch)
                persons = self._contact_persons(rng, batch, per_customer=contacts_per_customer)
                ContactPerson.objects.bulk_create(persons, batch_size=BATCH)
                made_persons += len(persons)
                persons_of = {}
                for person in persons:
                    persons_of.setdefault(person.customer_id, []).append(person.pk)
                rows = []
                # Spread the interactions so the batch gets its share, rounded fairly.
                target = round(per_customer * (start + size)) - made_interactions
                for _ in range(target):
                    customer = batch[rng.randrange(len(batch))]
                    values = demo.interaction_values(rng, now=customer.last_activity_at, max_age_days=700)
                    own = persons_of.get(customer.pk)
                    contact = rng.choice(own) if own and rng.random() < 0.6 else None
                    rows.append(Interaction(customer_id=customer.pk, contact_person_id=contact, **values))
                    if len(rows) == BATCH:
                        Interaction.objects.bulk_create(rows, batch_size=BATCH)
                        made_interactions += len(rows)
                        rows = []
                Interaction.objects.bulk_create(rows, batch_size=BATCH)
                made_interactions += len(rows)
            self.stdout.write(
                f"  {made_customers} customers, {made_persons} contact persons, {made_interactions} interactions",
                ending="\r",
            )
            self.stdout.flush()
        self._report(
            f"{made_customers} customers, {made_persons} contact persons and {made_interactions} interactions "
            f"into '{register.slug}'",
            started,
        )

    def _users(self, rng: random.Random, register: Register, count: int) -> None:
        """Add `count` users with roles in the register: memberships and role groups, as granting does."""
        started = time.monotonic()
        users = get_user_model().objects
        groups = register_role_groups_ensure(register=register)
        grantor, _created = users.get_or_create(username="bench.grantor", defaults={"is_superuser": True})
        first = users.filter(username__startswith=USER_PREFIX).count()
        new = []
        for number in range(first, first + count):
            person = demo.contact_person_values(rng, domain="benchmark.example.fi")
            new.append(
                users.model(
                    username=f"{USER_PREFIX}{number:04d}",
                    first_name=person["first_name"],
                    last_name=person["last_name"],
                    email=f"{USER_PREFIX}{number:04d}@benchmark.example.fi",
                    password=make_password(None),  # Unusable: the bench signs them in without one.
                )
            )
        created = users.bulk_create(new, batch_size=BATCH)
        today = timezone.localdate()
        memberships, in_groups = [], []
        for user in created:
            draw = rng.random()
            role = next(role for role, share in USER_ROLES if draw < share)
            ended = rng.random() < 0.1
            memberships.append(
                Membership(
                    user=user,
                    register=register,
                    role=role,
                    granted_by=grantor,
                    grant_reason="Suorituskykytesti",
                    starts_on=today - datetime.timedelta(days=rng.randint(30, 900)),
                    ended_at=timezone.now() - datetime.timedelta(days=rng.randint(1, 20)) if ended else None,
                    ended_by=grantor if ended else None,
                    end_reason="Tehtävä päättyi" if ended else "",
                )
            )
            if not ended:
                in_groups.append(users.model.groups.through(user_id=user.pk, group_id=groups[role].pk))
        with transaction.atomic():
            Membership.objects.bulk_create(memberships, batch_size=BATCH)
            users.model.groups.through.objects.bulk_create(in_groups, batch_size=BATCH)
        self._report(f"{len(created)} users with roles in '{register.slug}' ({len(in_groups)} in force)", started)

    def _log_entries(self, rng: random.Random, register: Register, count: int) -> None:
        """Write `count` change and access entries for the register's rows, each with {"register": <pk>}.

        Change entries: a creation entry for each customer, contact person and interaction in turn, then updates
        of customers, until CHANGE_SHARE of `count` is written; the rest are access entries of staff viewing
        customers. Rows are read by key in batches and written a batch at a time (COPY on PostgreSQL).
        """
        started = time.monotonic()
        actors = list(
            get_user_model()
            .objects.filter(memberships__register=register)
            .distinct()
            .values_list("pk", "email")
            .order_by("pk")
        ) or [(None, None)]
        changes = round(count * CHANGE_SHARE)
        now = timezone.now()
        written = 0
        customer_type = ContentType.objects.get_for_model(Customer)

        def entry(rng, *, pk, repr_, action, content_type, changes=None, path=None):
            actor, email = rng.choice(actors)
            data = {"register": register.pk}
            if path:
                data["path"] = path
            return (
                str(pk),
                pk,
                repr_,
                action,
                json.dumps(changes) if changes is not None else None,
                "",
                now - datetime.timedelta(seconds=rng.randint(0, 700 * 86400)),
                actor,
                email,
                content_type.pk,
                f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                json.dumps(data),
            )

        sources = [
            (Customer, Customer.objects.filter(register=register), ("organisation_name", "first_name", "last_name")),
            (ContactPerson, ContactPerson.objects.filter(customer__register=register), ("first_name", "last_name")),
            (Interaction, Interaction.objects.filter(customer__register=register), ("subject",)),
        ]
        for model, queryset, fields in sources:
            content_type = ContentType.objects.get_for_model(model)
            for rows in self._keyset(queryset, fields):
                rows = rows[: changes - written]
                batch = [
                    entry(
                        rng,
                        pk=pk,
                        repr_=" ".join(part for part in values if part),
                        action=LogEntry.Action.CREATE,
                        content_type=content_type,
                        changes={name: ["None", value] for name, value in zip(fields, values, strict=True)},
                    )
                    for pk, *values in rows
                ]
                written += self._insert_log(batch)
                self._progress(written, count)
                if written >= changes:
                    break
            if written >= changes:
                break
        # Updates and views of customers: as many rounds over the customers as the count needs.
        while written < count:
            before = written
            for rows in self._keyset(Customer.objects.filter(register=register), ("organisation_name", "last_name")):
                batch = []
                for pk, organisation_name, last_name in rows[: count - written]:
                    name = organisation_name or last_name
                    if written + len(batch) < changes:
                        batch.append(
                            entry(
                                rng,
                                pk=pk,
                                repr_=name,
                                action=LogEntry.Action.UPDATE,
                                content_type=customer_type,
                                changes={"extra_info": ["", "Päivitetty yhteystiedot."]},
                            )
                        )
                    else:
                        path = f"/crm/{register.slug}/customers/<code>/"
                        batch.append(
                            entry(
                                rng,
                                pk=pk,
                                repr_=name,
                                action=LogEntry.Action.ACCESS,
                                content_type=customer_type,
                                path=path,
                            )
                        )
                written += self._insert_log(batch)
                self._progress(written, count)
                if written >= count:
                    break
            if written == before:
                break  # No customers to log.
        self._report(f"{written} log entries for '{register.slug}'", started)

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  {done} of {total} log entries", ending="\r")
        self.stdout.flush()

    @staticmethod
    def _keyset(queryset, fields):
        """Yield the rows (pk, *fields) of the queryset in batches by primary key, never holding more than one."""
        last = 0
        while True:
            rows = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:BATCH])
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    @staticmethod
    def _insert_log(batch: list[tuple]) -> int:
        if not batch:
            return 0
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(LogEntry._meta.db_table)
            sql = f"COPY {table} ({', '.join(LOG_COLUMNS)}) FROM STDIN"  # nosec B608: names from the model
            with transaction.atomic():
                last = LogEntry.objects.aggregate(last=Max("pk"))["last"] or 0
                with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                    for row in batch:
                        copy.write_row(row)
                # COPY sends no signal: the rows it wrote are linked in the audit chain in the same transaction.
                links_append(LogEntry, LogEntry.objects.filter(pk__gt=last).values_list("pk", flat=True), Reason.WRITE)
        else:
            chained_bulk_create(
                LogEntry,
                [
                    LogEntry(
                        **{
                            name: json.loads(value) if name in {"changes", "additional_data"} and value else value
                            for name, value in zip(LOG_COLUMNS, row, strict=True)
                        }
                    )
                    for row in batch
                ],
                batch_size=BATCH,
            )
        return len(batch)

    @staticmethod
    def _contact_persons(rng: random.Random, batch: list, *, per_customer: float) -> list:
        """Return contact persons for the batch's organisations, `per_customer` per customer of the batch on average.

        Only organisations have contact persons, so each gets per_customer / (organisation share) of them, drawn
        from 0 to twice that; their e-mail addresses share the organisation's domain.
        """
        organisations = [customer for customer in batch if customer.kind == Customer.Kind.ORGANISATION]
        if not organisations or per_customer <= 0:
            return []
        mean = per_customer * len(batch) / len(organisations)
        persons = []
        for customer in organisations:
            whole = int(mean * 2 * rng.random() + 0.5)
            domain = customer.email.partition("@")[2] or "yritys.example.fi"
            for _ in range(whole):
                values = demo.contact_person_values(rng, domain=domain)
                persons.append(ContactPerson(customer_id=customer.pk, **values))
        return persons

    def _register(self, slug: str) -> Register:
        register = Register.objects.filter(slug=slug).first()
        if register is None:
            organisation, _ = Organisation.objects.get_or_create(name_fi="Benchmark organisation")
            register = Register(
                slug=slug,
                organisation=organisation,
                name_fi="Suorituskykytesti",
                name_sv="Prestandatest",
                name_en="Benchmark register",
                owner="Benchmark",
                purposes="Suorituskyvyn mittaus",
                legal_bases=["e"],
                data_categories="Generoitu testiaineisto",
                collected_fields=list(CustomerField.values),
                retention_months=36,
            )
            register.full_clean()
            register.save()
        register_role_groups_ensure(register=register)
        return register
