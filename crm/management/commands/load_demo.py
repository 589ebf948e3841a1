"""Load the demo: the seeds' organisations and registers, users for every role and a few hundred customers.

Idempotent and deterministic: values come from seeded PRNGs and rows carry
uuid5 codes, so a second run finds everything in place and changes nothing.
"""

import datetime
import random

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from crm import demo_customers as demo
from crm.models import (
    CallRecording,
    ContactCentreMessage,
    ContactPerson,
    Customer,
    Interaction,
    Invoice,
    OrderingClient,
)
from registers import demo_governance, demo_registers
from registers.models import Membership, Organisation, Register, Role
from registers.services import main_users_group_ensure, membership_grant, register_role_groups_ensure

CUSTOMERS_PER_REGISTER = 60
# A fixed anchor keeps generated times identical between runs on different days.
ANCHOR = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)

# username, register slugs, role; the ordering-client manager gets one department.
DEMO_USERS: list[tuple[str, str, str, list[str], str]] = [
    ("hki.owner", "Nyrki", "Tuominen", ["helsinki-tourism-convention", "helsinki-business-development"], Role.OWNER),
    ("hki.tourism.handler", "Tuulikki", "Becker", ["helsinki-tourism-convention"], Role.HANDLER),
    ("hki.tourism.staff", "Aino", "Laine", ["helsinki-tourism-convention"], Role.STAFF),
    ("hki.development.handler", "Susanna", "Sinervuo", ["helsinki-business-development"], Role.HANDLER),
    ("hki.development.staff", "Johan", "Lindholm", ["helsinki-business-development"], Role.STAFF),
    ("kemi.owner", "Hanna", "Alila", ["kemi-vitality-crm"], Role.OWNER),
    ("kemi.staff", "Eero", "Niemi", ["kemi-vitality-crm"], Role.STAFF),
    ("naantali.owner", "Lassi", "Rosala", ["naantali-business-services"], Role.OWNER),
    ("naantali.staff", "Maija", "Heinonen", ["naantali-business-services"], Role.STAFF),
    ("company.owner", "Kaisa", "Saarinen", ["company-customer-register"], Role.OWNER),
    ("company.handler", "Ville", "Koskinen", ["company-customer-register"], Role.HANDLER),
    ("company.staff", "Noora", "Järvinen", ["company-customer-register"], Role.STAFF),
    ("cc.owner", "Birgitta", "Holmberg", ["helsinki-contact-centre"], Role.OWNER),
    ("cc.expert", "Magnus", "Ekström", ["helsinki-contact-centre"], Role.CONTACT_CENTRE_EXPERT),
    ("cc.manager", "Ingrid", "Forsman", ["helsinki-contact-centre"], Role.CLIENT_MANAGER),
]
MAIN_USER = ("paakayttaja", "Pia", "Pääkäyttäjä")
GREETINGS = ["Kiitos nopeasta vastauksesta.", "Tack för hjälpen.", "Voisitteko soittaa minulle?"]


def demo_password(username: str) -> str:
    return f"{username}-Demo-2026"


class Command(BaseCommand):
    help = "Load the demo registers, users and customers (idempotent)."

    def handle(self, *args, **options):
        self._load()
        # After the commit, so that the list ends the output, below any demo letters printed by the console mailer.
        self._print_users()

    @transaction.atomic
    def _load(self) -> None:
        registers = self._registers()
        users = self._users(registers)
        # Names used so far in this load: nobody appears twice, as a customer or as a contact person.
        taken: set = set()
        for register in registers.values():
            if register.kind == Register.Kind.CUSTOMER and not register.parts.exists():
                self._customers(register, users, taken)
        self._contact_centre(registers["helsinki-contact-centre"], users)
        demo_governance.load(main_user=users[MAIN_USER[0]], users=users)
        # The requests, consents and disclosures belong to privacy, which crm does not import: run its command.
        if apps.is_installed("privacy"):
            call_command("load_demo_privacy", stdout=self.stdout)
        # A few customers entered twice, and the nightly scan's likely duplicates (issue 16).
        if apps.is_installed("duplicates"):
            call_command("load_demo_duplicates", stdout=self.stdout)
        # Tags, a shared segment, follow-ups and a draft campaign (issue 18), from the app at the top of the arrows.
        if apps.is_installed("campaigns"):
            call_command("load_demo_daily_work", stdout=self.stdout)
        # An integration client with a published demo key (issue 19).
        if apps.is_installed("api"):
            call_command("load_demo_api", stdout=self.stdout)
        # The person of the "my data" pages, for a sign-in through README's local test provider (issue 20).
        if apps.is_installed("selfservice"):
            call_command("load_demo_selfservice", stdout=self.stdout)
        # Document requests in their first states, for the handlers' queue (issue 21).
        if apps.is_installed("openness"):
            call_command("load_demo_openness", stdout=self.stdout)

    def _registers(self) -> dict[str, Register]:
        organisations = {}
        for data in demo_registers.ORGANISATIONS:
            values = {k: v for k, v in data.items() if k != "key"}
            organisations[data["key"]], _ = Organisation.objects.get_or_create(name_fi=data["name"], defaults=values)
        registers: dict[str, Register] = {}
        for data in demo_registers.REGISTERS:
            values = {k: v for k, v in data.items() if k not in {"slug", "organisation", "parent"}}
            values["organisation"] = organisations[data["organisation"]]
            values["parent"] = registers[data["parent"]] if data["parent"] else None
            register = Register.objects.filter(slug=data["slug"]).first()
            if register is None:
                register = Register(slug=data["slug"], code=demo.stable_code("register", data["slug"]), **values)
                register.full_clean()
                register.save()
            register_role_groups_ensure(register=register)
            registers[data["slug"]] = register
        return registers

    def _users(self, registers: dict[str, Register]) -> dict[str, object]:
        user_model = get_user_model()
        username, first, last = MAIN_USER
        main_user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_staff": True, "email": f"{username}@example.fi"},
        )
        if created:
            main_user.set_password(demo_password(username))
            main_user.save()
        main_user.groups.add(main_users_group_ensure())
        users = {username: main_user}
        for username, first, last, slugs, role in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@example.fi"},
            )
            if created:
                user.set_password(demo_password(username))
                user.save()
            for slug in slugs:
                register = registers[slug]
                if not Membership.objects.filter(user=user, register=register, role=role).exists():
                    membership_grant(
                        actor=main_user, user=user, register=register, role=role, reason="Demo", starts_on=ANCHOR.date()
                    )
            users[username] = user
        return users

    def _customers(self, register: Register, users, taken: set) -> None:
        collected = set(Customer.fields_collected_by(register))
        existing = set(Customer.objects.filter(register=register).values_list("code", flat=True))
        staff = [u for u in users.values() if Membership.objects.filter(user=u, register=register).exists()]
        bills = register.slug in {"company-customer-register", "helsinki-tourism-convention"}
        customers, persons, interactions, invoices = [], [], [], []
        for number in range(CUSTOMERS_PER_REGISTER):
            code = demo.stable_code(register.slug, "customer", number)
            if code in existing:
                continue
            rng = random.Random(f"{register.slug}:{number}")  # nosec B311
            values = demo.customer_values(rng, collected=collected, taken=taken)
            customer = Customer(register=register, code=code, source=Customer.Source.DATA_SUBJECT, **values)
            if customer.marketing_objection:
                customer.marketing_objection_at = ANCHOR - datetime.timedelta(days=rng.randint(1, 300))
            # One in six customers has been idle for years, so retention has something to find.
            max_age = 2000 if number % 6 == 0 else 700
            times = []
            if customer.kind == Customer.Kind.ORGANISATION:
                for p in range(rng.randint(1, 3)):
                    persons.append(
                        ContactPerson(
                            customer=customer,
                            code=demo.stable_code(code, "person", p),
                            **demo.contact_person_values(
                                rng, taken=taken, domain=values["email"].partition("@")[2] or "yritys.example.fi"
                            ),
                        )
                    )
            for i in range(rng.randint(0, 15)):
                values = demo.interaction_values(rng, now=ANCHOR, max_age_days=max_age)
                values["occurred_at"] -= datetime.timedelta(days=1400 if number % 6 == 0 else 0)
                times.append(values["occurred_at"])
                interactions.append(
                    Interaction(
                        customer=customer,
                        code=demo.stable_code(code, "interaction", i),
                        staff_user=rng.choice(staff) if staff else None,
                        **values,
                    )
                )
            issued = []
            if bills:
                for i in range(rng.randint(0, 3)):
                    invoice = Invoice(
                        customer=customer,
                        code=demo.stable_code(code, "invoice", i),
                        **demo.invoice_values(rng, number=f"{number:04d}-{i}", today=ANCHOR.date()),
                    )
                    issued.append(invoice.created_at)
                    invoices.append(invoice)
            customer.last_activity_at = max(times, default=ANCHOR - datetime.timedelta(days=max_age))
            # The customer was recorded before their first contact or invoice, so the statistics see them
            # arrive over time.
            first_seen = min(times + issued, default=customer.last_activity_at)
            customer.created_at = first_seen - datetime.timedelta(days=rng.randint(1, 60))
            customer.full_clean()
            customers.append(customer)
        Customer.objects.bulk_create(customers)
        for row in persons + interactions + invoices:
            row.customer_id = row.customer.pk
        ContactPerson.objects.bulk_create(persons)
        Interaction.objects.bulk_create(interactions)
        Invoice.objects.bulk_create(invoices)

    def _contact_centre(self, register: Register, users) -> None:
        clients = []
        for data in demo_registers.ORDERING_CLIENTS:
            client, _ = OrderingClient.objects.get_or_create(
                register=register,
                department=data["department"],
                defaults={"code": demo.stable_code("client", data["department"])},
            )
            clients.append(client)
        clients[0].managers.add(users["cc.manager"])
        existing = set(ContactCentreMessage.objects.filter(register=register).values_list("code", flat=True))
        messages, recordings = [], []
        for number in range(90):
            code = demo.stable_code(register.slug, "message", number)
            if code in existing:
                continue
            rng = random.Random(f"message:{number}")  # nosec B311
            first = rng.choice(demo.FIRST_NAMES_FI + demo.FIRST_NAMES_SV)
            last = rng.choice(demo.LAST_NAMES_FI + demo.LAST_NAMES_SV)
            client = clients[number % len(clients)]
            incoming = rng.random() < 0.6
            address = f"{first.lower()}.{last.lower()}@example.fi".translate(str.maketrans("äöå", "aoa"))
            messages.append(
                ContactCentreMessage(
                    code=code,
                    register=register,
                    ordering_client=client,
                    direction="in" if incoming else "out",
                    sender=address if incoming else "neuvonta@hel.example.fi",
                    recipient="neuvonta@hel.example.fi" if incoming else address,
                    subject=rng.choice(["Fråga om dagvård", "Kysymys laskusta", "Ajanvaraus", "Palaute palvelusta"]),
                    body=f"Hei,\n\n{rng.choice(GREETINGS)}\n\n{first} {last}",
                    sent_at=ANCHOR - datetime.timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 900)),
                )
            )
        ContactCentreMessage.objects.bulk_create(messages)
        existing = set(CallRecording.objects.filter(register=register).values_list("code", flat=True))
        for number in range(40):
            code = demo.stable_code(register.slug, "recording", number)
            if code in existing:
                continue
            rng = random.Random(f"recording:{number}")  # nosec B311
            recordings.append(
                CallRecording(
                    code=code,
                    register=register,
                    ordering_client=clients[number % len(clients)],
                    recorded_at=ANCHOR - datetime.timedelta(days=rng.randint(0, 240), minutes=rng.randint(0, 900)),
                    agent_location_code=f"HKI-{rng.randint(1, 40):02d}",
                    caller_number_fragment=f"{rng.randint(0, 9999):04d}",
                )
            )
        CallRecording.objects.bulk_create(recordings)

    @translation.override("en")
    def _print_users(self) -> None:
        self.stdout.write("Demo users (username / password / role):")
        self.stdout.write(f"  {MAIN_USER[0]:<26} {demo_password(MAIN_USER[0]):<36} main user (administrator)")
        for username, _first, _last, slugs, role in DEMO_USERS:
            self.stdout.write(f"  {username:<26} {demo_password(username):<36} {Role(role).label}: {', '.join(slugs)}")
