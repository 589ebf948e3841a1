"""The demo's person for the "my data" pages (issue 20): Sanna Strand, a customer of two registers of two
controllers, whom the local test provider of README's "Try the my data pages" signs in with strong identification."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crm import services as crm_services
from crm.models import Customer, Interaction
from registers.models import Register
from registers.services import is_main_user

FIRST_NAME, LAST_NAME, EMAIL = "Sanna", "Strand", "sanna.strand@example.fi"
REGISTERS = ("helsinki-tourism-convention", "kemi-vitality-crm")
# What the local provider (python -m oidc_provider_mock --user-claims ...) says about her.
CLAIMS = {
    "sub": "5b0e8f3a-2c1d-4e6f-9a8b-7c6d5e4f3a2b",
    "given_name": FIRST_NAME,
    "family_name": LAST_NAME,
    "email": EMAIL,
    "email_verified": True,
    "loa": "substantial",
}


class Command(BaseCommand):
    help = "Add the demo person of the my data pages (idempotent) and print the provider's claims for her."

    @transaction.atomic
    def handle(self, *args, **options):
        actor = next((user for user in get_user_model().objects.order_by("pk") if is_main_user(user)), None)
        for register in Register.objects.filter(slug__in=REGISTERS):
            if Customer.objects.filter(register=register, email=EMAIL).exists():
                continue
            data = {"kind": Customer.Kind.PERSON, "first_name": FIRST_NAME, "last_name": LAST_NAME, "email": EMAIL}
            if register.collects("address"):
                data.update(street_address="Mannerheimintie 5 A 3", postal_code="00100", city="Helsinki")
            customer = crm_services.customer_create(actor=actor, register=register, data=data)
            crm_services.interaction_create(
                actor=actor,
                customer=customer,
                data={
                    "kind": Interaction.Kind.MEETING,
                    "occurred_at": timezone.now(),
                    "subject": "Neuvontatapaaminen",
                    "text": "Yrityksen perustaminen",
                },
            )
        self.stdout.write(f"Demo person of the my data pages: {FIRST_NAME} {LAST_NAME} (claims {json.dumps(CLAIMS)})")
