"""Give the demo its daily work (issue 18): tags, a shared segment, follow-ups on the front pages, a draft campaign.

Idempotent: a register that has tags already is left as it is. Follow-ups are dated from today, so that a demo
loaded on any day shows some overdue, some due today and some ahead; the rest is deterministic (seeded).
"""

import datetime
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_create
from crm import tagging
from crm.models import Customer
from followups.services import followup_create
from registers.models import Membership, Register, Role
from segments.services import saved_view_create

# Tag names in the register's own language (the demo's staff write Finnish; the company's register too).
TAGS = ("Uutiskirje", "Messut 2027", "Vientineuvonta")
NEWSLETTER, FAIR, EXPORT = TAGS
FOLLOWUP_NOTES = (
    "Soita ja kysy messuosallistumisesta.",
    "Lähetä tarjous vientineuvonnasta.",
    "Sovi tapaaminen tammikuulle.",
    "Tarkista yhteyshenkilön tiedot.",
)
# Days from today: overdue, due today, ahead.
FOLLOWUP_DAYS = (-3, -1, 0, 2, 7)


class Command(BaseCommand):
    help = "Load the demo's tags, segments, follow-ups and a draft campaign (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        registers = Register.objects.filter(kind=Register.Kind.CUSTOMER, parts__isnull=True).order_by("slug")
        for register in registers:
            if register.tags.exists():
                continue
            keeper = self._member(register, (Role.OWNER, Role.HANDLER))
            if keeper is None:
                continue
            rng = random.Random(f"daily-work:{register.slug}")  # nosec B311 - demo data, not secrets
            tags = {name: tagging.tag_create(actor=keeper, register=register, name=name) for name in TAGS}
            customers = list(Customer.objects.filter(register=register).order_by("pk").values_list("pk", flat=True))
            for name, share in ((NEWSLETTER, 0.4), (FAIR, 0.2), (EXPORT, 0.15)):
                chosen = [pk for pk in customers if rng.random() < share]
                tagging.tags_apply_bulk(actor=keeper, tag=tags[name], customer_ids=chosen)
            segment = saved_view_create(
                actor=keeper,
                register=register,
                name="Uutiskirjeen tilaajat",
                shared=True,
                query={"tag": str(tags[NEWSLETTER].code)},
                columns=[],
            )
            self._followups(register, keeper, rng)
            if register.direct_marketing:
                self._campaign(register, keeper, segment)
        self.stdout.write("Demo daily work: tags, a shared segment, follow-ups and a draft campaign per register.")

    @staticmethod
    def _member(register: Register, roles):
        membership = (
            Membership.objects.active()
            .filter(register=register, role__in=roles)
            .select_related("user")
            .order_by("role", "user__username")
            .first()
        )
        return membership.user if membership else None

    def _followups(self, register: Register, keeper, rng: random.Random) -> None:
        today = timezone.localdate()
        users = get_user_model().objects.filter(
            pk__in=Membership.objects.active().filter(register=register).values("user_id")
        )
        customers = list(Customer.objects.filter(register=register, processing_restricted=False).order_by("pk")[:40])
        for user in users.order_by("username"):
            for days in FOLLOWUP_DAYS:
                followup_create(
                    actor=keeper,
                    customer=rng.choice(customers),
                    assignee=user,
                    due_on=today + datetime.timedelta(days=days),
                    note=rng.choice(FOLLOWUP_NOTES),
                )

    @staticmethod
    def _campaign(register: Register, keeper, segment) -> None:
        if Campaign.objects.filter(register=register).exists():
            return
        campaign_create(
            actor=keeper,
            register=register,
            data={
                "name": "Joulukuun uutiskirje",
                "segment": segment,
                "audience": Campaign.Audience.PERSONS,
                "subject_fi": "Joulukuun uutiset yrityksille",
                "body_fi": "Hei,\n\ntässä joulukuun tapahtumat ja palvelut yrityksille.\n\nYstävällisin terveisin",
                "subject_sv": "Decembernyheter för företag",
                "body_sv": "Hej,\n\nhär är decembers evenemang och tjänster för företag.\n\nMed vänliga hälsningar",
                "subject_en": "December news for businesses",
                "body_en": "Hello,\n\nhere are December's events and services for businesses.\n\nBest regards",
            },
        )
