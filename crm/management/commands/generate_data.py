"""Fill a register with generated customers and interactions for benchmarks.

Rows are built and inserted one batch at a time with bulk_create, so memory
stays flat however many rows are asked for. Generated rows are not written to
the change log (django-auditlog does not see bulk inserts): this command is for
benchmark databases, never for real registers.
"""

import datetime
import random
import resource
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.fi import ytunnus

from crm import demo_customers as demo
from crm.models import Customer, Interaction
from registers.models import CustomerField, Organisation, Register
from registers.services import register_role_groups_ensure

BATCH = 5000


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
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--interactions", type=int, default=0)
        parser.add_argument("--register", default="benchmark", help="slug of the register to fill (created if new)")
        parser.add_argument(
            "--inactive-share",
            type=float,
            default=0.0,
            help="share of customers whose last activity lies beyond the register's retention period",
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, customers, interactions, register, inactive_share, seed, **options):
        if customers < 1 or interactions < 0 or not 0 <= inactive_share <= 1:
            raise CommandError("Give a positive number of customers, interactions >= 0 and a share from 0 to 1.")
        started = time.monotonic()
        register = self._register(register)
        rng = random.Random(seed)  # nosec B311
        now = timezone.now()
        retention_days = (register.retention_months or 36) * 31
        collected = set(Customer.fields_collected_by(register))
        ids = business_ids(first_body=1000000 + 2 * Customer.objects.filter(register=register).count())
        per_customer = interactions / customers
        made_customers = made_interactions = 0
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
                rows = []
                # Spread the interactions so the batch gets its share, rounded fairly.
                target = round(per_customer * (start + size)) - made_interactions
                for _ in range(target):
                    customer = batch[rng.randrange(len(batch))]
                    values = demo.interaction_values(rng, now=customer.last_activity_at, max_age_days=700)
                    rows.append(Interaction(customer_id=customer.pk, **values))
                    if len(rows) == BATCH:
                        Interaction.objects.bulk_create(rows, batch_size=BATCH)
                        made_interactions += len(rows)
                        rows = []
                Interaction.objects.bulk_create(rows, batch_size=BATCH)
                made_interactions += len(rows)
            self.stdout.write(f"  {made_customers} customers, {made_interactions} interactions", ending="\r")
            self.stdout.flush()
        elapsed = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"\nGenerated {made_customers} customers and {made_interactions} interactions into "
            f"'{register.slug}' in {elapsed:.1f} s (peak memory {peak_mb:.0f} MB)."
        )

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
