import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from stdnum.fi import ytunnus

from campaigns.models import Campaign
from crm.models import (
    CallRecording,
    ContactCentreMessage,
    ContactPerson,
    Customer,
    CustomerTag,
    Interaction,
    Invoice,
    OrderingClient,
    SavedView,
    Tag,
)
from crm.selectors import customer_list, message_list
from followups.models import FollowUp
from registers import demo_registers
from registers.models import Membership, Organisation, Register, RegisterGroupObjectPermission
from registers.selectors import register_list
from selfservice.management.commands import load_demo_selfservice as selfservice_demo

pytestmark = pytest.mark.django_db


FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The demo hashes sixteen passwords per load; the hasher's cost is not under test here.
    settings.PASSWORD_HASHERS = FAST_HASHING


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for the module's readers (each test's own changes roll back to it): a load takes
    seconds, and the tests that load it themselves test the loading."""
    with (
        override_settings(PASSWORD_HASHERS=FAST_HASHING),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        call_command("load_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


MODELS = [
    Organisation,
    Register,
    get_user_model(),
    Group,
    Membership,
    RegisterGroupObjectPermission,
    Customer,
    ContactPerson,
    Interaction,
    Invoice,
    OrderingClient,
    ContactCentreMessage,
    CallRecording,
    Tag,
    CustomerTag,
    FollowUp,
    SavedView,
    Campaign,
    LogEntry,
]


def snapshot():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def test_load_demo_twice_gives_the_same_database(capsys):
    call_command("load_demo")
    first = snapshot()
    call_command("load_demo")
    assert snapshot() == first
    assert len(first["Customer"]) >= 250
    assert len(first["Interaction"]) > 1000


def test_demo_holds_every_seed_register_with_its_description(demo):
    assert Register.objects.count() == len(demo_registers.REGISTERS)
    helsinki = Register.objects.get(slug="helsinki-business-services")
    assert set(helsinki.parts.values_list("slug", flat=True)) == {
        "helsinki-tourism-convention",
        "helsinki-business-development",
    }
    kemi = Register.objects.get(slug="kemi-vitality-crm")
    assert kemi.description_created_on == datetime.date(2024, 3, 16)
    assert "Kemi" in kemi.organisation.name
    for register in Register.objects.all():
        register.full_clean()


def test_demo_prints_a_password_for_every_role(capsys):
    call_command("load_demo")
    printed = capsys.readouterr().out
    for role in ("main user", "register owner", "register handler", "staff user", "contact-centre expert"):
        assert role in printed
    assert "hki.tourism.staff-Demo-2026" in printed
    user = get_user_model().objects.get(username="hki.tourism.staff")
    assert user.check_password("hki.tourism.staff-Demo-2026")


def test_demo_users_see_only_their_own_registers(demo):
    staff = get_user_model().objects.get(username="kemi.staff")
    assert [r.slug for r in register_list(user=staff)] == ["kemi-vitality-crm"]
    assert customer_list(user=staff).count() == Customer.objects.filter(register__slug="kemi-vitality-crm").count()
    manager = get_user_model().objects.get(username="cc.manager")
    centre = Register.objects.get(slug="helsinki-contact-centre")
    visible = message_list(user=manager, register=centre)
    assert 0 < visible.count() < ContactCentreMessage.objects.count()


def test_demo_customers_are_valid_and_hold_only_collected_fields(demo):
    for customer in Customer.objects.select_related("register"):
        customer.full_clean()
    assert Customer.objects.filter(kind="person").exists()
    assert Customer.objects.filter(language="sv").exists()
    assert Customer.objects.filter(marketing_objection=True).exists()
    naantali = Customer.objects.filter(register__slug="naantali-business-services")
    assert not naantali.exclude(education="").exists()


def test_generate_data_fills_a_register_in_batches():
    call_command("generate_data", customers=120, interactions=700, inactive_share=0.5)
    register = Register.objects.get(slug="benchmark")
    customers = Customer.objects.filter(register=register)
    assert customers.count() == 120
    assert Interaction.objects.filter(customer__register=register).count() == 700
    ids = list(customers.exclude(business_id="").values_list("business_id", flat=True))
    assert len(ids) == len(set(ids))
    assert all(ytunnus.is_valid(i) for i in ids)
    cutoff = timezone.now() - datetime.timedelta(days=register.retention_months * 31)
    assert 20 < customers.filter(last_activity_at__lt=cutoff).count() < 100
    call_command("generate_data", customers=50)
    assert customers.count() == 170


def test_demo_people_appear_once_and_timelines_hold_only_the_past(demo):
    from crm.selectors import customer_timeline_page

    started = timezone.now()
    # Apart from the customers planted twice on purpose (duplicates.management.commands.load_demo_duplicates).
    planted = list(Customer.objects.filter(source=Customer.Source.IMPORTED).values_list("pk", flat=True))
    # And the person of the "my data" pages, a customer of two registers on purpose (load_demo_selfservice).
    planted += list(Customer.objects.filter(email=selfservice_demo.EMAIL).values_list("pk", flat=True))
    assert 0 < len(planted) <= 4 * Register.objects.filter(kind=Register.Kind.CUSTOMER).count()
    persons = Customer.objects.filter(kind="person").exclude(pk__in=planted)
    names = list(persons.values_list("first_name", "last_name", "date_of_birth"))
    assert len(names) == len(set(names))
    assert len({(first, last) for first, last, _born in names}) == len(names)
    contacts = list(ContactPerson.objects.values_list("first_name", "last_name"))
    assert len(contacts) == len(set(contacts))
    assert not set(contacts) & {(first, last) for first, last, _born in names}
    emails = [e for e in Customer.objects.exclude(pk__in=planted).values_list("email", flat=True) if e]
    emails += list(ContactPerson.objects.values_list("email", flat=True))
    assert len(emails) == len(set(emails))
    organisations = list(
        Customer.objects.filter(kind="organisation").exclude(pk__in=planted).values_list("organisation_name", flat=True)
    )
    assert len(organisations) == len(set(organisations))
    # An invoice is on the timeline when it was issued, not when the demo was loaded.
    billed = Customer.objects.filter(invoices__isnull=False).distinct()
    assert billed.count() > 20
    for customer in billed:
        entries = customer_timeline_page(customer=customer).entries
        times = [entry.at for entry in entries]
        assert times == sorted(times, reverse=True)
        assert all(at < started for at in times)
        assert customer.created_at <= min(times)


def test_demo_users_have_daily_work_and_campaigns_only_where_marketing_is_allowed(demo):
    staff = get_user_model().objects.get(username="hki.tourism.staff")
    today = timezone.localdate()
    due = FollowUp.objects.filter(assignee=staff, done_at__isnull=True)
    assert due.filter(due_on__lt=today).exists()
    assert due.filter(due_on=today).exists()
    assert SavedView.objects.filter(shared=True, register__slug="helsinki-tourism-convention").exists()
    campaign_registers = set(Campaign.objects.values_list("register__slug", flat=True))
    assert campaign_registers == {
        "helsinki-tourism-convention",
        "helsinki-business-development",
        "company-customer-register",
    }
    assert CustomerTag.objects.filter(tag__register__slug="kemi-vitality-crm").exists()
