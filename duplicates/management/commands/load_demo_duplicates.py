"""Plant a few duplicates in the demo's customer registers and find them, so the duplicate screens have work.

Idempotent: the twins carry uuid5 codes, a second run finds them in place (or merged, when a demo user merged
them: then the alias of the twin's code exists) and only refreshes the candidates.
"""

import datetime
import random

from django.core.management.base import BaseCommand
from django.db import transaction

from crm import demo_customers as demo
from crm.models import Customer, CustomerAlias, Interaction
from registers.models import Register

from ...detection import duplicate_candidates_refresh

TWINS_PER_REGISTER = 4
COMPANY_FORMS = ("Oy", "Ab", "Oy Ab", "Ky", "Tmi", "ry", "Oyj")


def twin_values(original: Customer, rng: random.Random, variant: int) -> dict:
    """The original's values as somebody typed them again: without the company form, another case, a typo."""
    values = {name: getattr(original, name) for name in Customer.DATA_FIELDS}
    values["kind"] = original.kind
    values["business_id"] = ""  # the second entry rarely has it, and a register holds a business ID once
    if original.is_organisation:
        words = [word for word in original.organisation_name.split() if word not in COMPANY_FORMS]
        name = " ".join(words)
        values["organisation_name"] = [name, name.upper(), f"{name} Oy", name.replace("a", "ä", 1)][variant % 4]
    else:
        values["first_name"] = original.first_name[:1] + "." if variant % 2 else original.first_name
        values["date_of_birth"] = original.date_of_birth
    values["email"] = original.email.upper() if variant % 2 == 0 else ""
    values["mobile"] = "" if variant % 3 else original.mobile
    values["extra_info"] = rng.choice(["Tuli messuilta.", "Tuotu vanhasta taulukosta.", ""])
    collected = set(Customer.fields_collected_by(original.register))
    for fields in Customer.OPTIONAL_FIELDS.values():
        for name in fields:
            if name not in collected:
                values[name] = None if name == "date_of_birth" else ""
    return values


class Command(BaseCommand):
    help = "Plant duplicate customers in the demo registers and refresh the likely duplicates (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        anchor = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
        for register in Register.objects.filter(kind=Register.Kind.CUSTOMER, parts__isnull=True).order_by("slug"):
            originals = list(Customer.objects.filter(register=register).order_by("created_at", "pk")[:40])
            for number in range(min(TWINS_PER_REGISTER, len(originals) // 10)):
                code = demo.stable_code(register.slug, "duplicate", number)
                if Customer.objects.filter(code=code).exists() or CustomerAlias.objects.filter(code=code).exists():
                    continue
                original = originals[number * 10]
                rng = random.Random(f"{register.slug}:duplicate:{number}")  # nosec B311
                twin = Customer(
                    register=register, code=code, source=Customer.Source.IMPORTED, **twin_values(original, rng, number)
                )
                # Entered later than the original, before the demo's anchor day.
                twin.created_at = max(original.created_at, anchor - datetime.timedelta(days=rng.randint(20, 200)))
                twin.full_clean()
                twin.save()
                for i in range(rng.randint(1, 3)):
                    values = demo.interaction_values(rng, now=anchor, max_age_days=400)
                    Interaction.objects.create(customer=twin, code=demo.stable_code(code, "interaction", i), **values)
            result = duplicate_candidates_refresh(register=register)
            self.stdout.write(
                f"Likely duplicates in {register.slug}: {result.customers} customer pairs, "
                f"{result.contact_persons} contact-person pairs."
            )
