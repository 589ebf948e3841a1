import datetime

import pytest
from django.utils import timezone

from crm.models import Customer
from privacy.retention.models import LegalHold, PurgeRun

from ...factories import InvoiceFactory
from ..retention_helpers import idle_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks_in_process(celery_eager):
    """The purge run's task runs in the test process."""


def url(register, suffix=""):
    return f"/registers/{register.slug}/retention/{suffix}"


def hold_data(**extra):
    return {
        "reason": "Claim 12/2026",
        "ends_on": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
    } | extra


def test_the_owner_sees_counts_and_the_customers_past_retention(client, register_a, owner_a):
    idle_customer(register_a, organisation_name="Vanha Oy")
    held = idle_customer(register_a, organisation_name="Velallinen Oy")
    InvoiceFactory(customer=held, status="in_collection")
    client.force_login(owner_a)
    page = client.get(url(register_a), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Vanha Oy" in page
    assert "Velallinen Oy" in page
    assert "open invoice or debt in collection: 1" in page


def test_a_main_user_sees_counts_but_no_names(client, register_a, main_user):
    idle_customer(register_a, organisation_name="Vanha Oy")
    client.force_login(main_user)
    response = client.get(url(register_a), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Vanha Oy" not in response.content.decode()
    assert response.context["rows"][0].purgeable == 1


def test_a_register_without_retention_rule_says_so(client, register_a, owner_a):
    register_a.retention_months = None
    register_a.save()
    client.force_login(owner_a)
    page = client.get(url(register_a), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "nothing in it is purged automatically" in page


def test_the_owner_places_a_hold_on_one_customer_from_the_list(client, register_a, owner_a):
    customer = idle_customer(register_a, organisation_name="Riita Oy")
    client.force_login(owner_a)
    form = client.get(url(register_a) + f"?customer={customer.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert "The hold applies to Riita Oy." in form.content.decode()
    response = client.post(url(register_a, "holds/"), hold_data(customer=customer.code))
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.customer, hold.scope, hold.placed_by) == (customer, LegalHold.Scope.CUSTOMER, owner_a)
    assert client.get(url(register_a)).context["rows"][0].held == {"legal_hold": 1}


def test_the_owner_places_and_releases_a_register_hold(client, register_a, owner_a):
    client.force_login(owner_a)
    client.post(url(register_a, "holds/"), hold_data())
    hold = LegalHold.objects.get()
    assert hold.scope == LegalHold.Scope.REGISTER
    client.post(url(register_a, f"holds/{hold.code}/release/"), {"release_reason": "Audit finished"})
    hold.refresh_from_db()
    assert hold.released_by == owner_a
    assert hold.release_reason == "Audit finished"


def test_a_hold_cannot_name_a_customer_of_another_register(client, register_a, register_b, owner_a):
    other = idle_customer(register_b)
    client.force_login(owner_a)
    response = client.post(url(register_a, "holds/"), hold_data(customer=other.code))
    assert response.status_code == 404
    assert not LegalHold.objects.exists()


def test_a_hold_reason_may_not_hold_an_identity_code(client, register_a, owner_a):
    client.force_login(owner_a)
    client.post(url(register_a, "holds/"), hold_data(reason="Claim of 131052-308T"))
    assert not LegalHold.objects.exists()


def test_run_now_purges_the_register(client, register_a, owner_a, tasks_in_process, django_capture_on_commit_callbacks):
    idle = idle_customer(register_a)
    client.force_login(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(register_a, "run/"))
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=idle.pk).exists()
    run = PurgeRun.objects.get()
    assert (run.trigger, run.triggered_by, run.register) == (PurgeRun.Trigger.MANUAL, owner_a, register_a)


def test_staff_of_another_register_gets_404(client, register_a, staff_b):
    hold = LegalHold.objects.create(
        register=register_a,
        scope=LegalHold.Scope.REGISTER,
        reason="x",
        ends_on=timezone.localdate(),
        placed_by=staff_b,
    )
    client.force_login(staff_b)
    assert client.get(url(register_a)).status_code == 404
    assert client.post(url(register_a, "holds/"), hold_data()).status_code == 404
    assert client.post(url(register_a, f"holds/{hold.code}/release/"), {"release_reason": "x"}).status_code == 404
    assert client.post(url(register_a, "run/")).status_code == 404


def test_read_only_user_gets_403_on_post(client, register_a, readonly_a):
    client.force_login(readonly_a)
    assert client.post(url(register_a, "holds/"), hold_data()).status_code == 403
    assert client.post(url(register_a, "run/")).status_code == 403
    assert not LegalHold.objects.exists()


def test_staff_who_is_not_owner_gets_403(client, register_a, staff_a):
    client.force_login(staff_a)
    assert client.get(url(register_a)).status_code == 403


def test_anonymous_goes_to_login(client, register_a):
    response = client.get(url(register_a))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_changes_are_post_only(client, register_a, owner_a):
    client.force_login(owner_a)
    assert client.get(url(register_a, "run/")).status_code == 405
    assert client.get(url(register_a, "holds/")).status_code == 405


def test_the_preview_runs_the_same_queries_for_few_and_many_due_customers(client, register_a, owner_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("retention:preview", kwargs={"slug": register_a.slug})
    client.force_login(owner_a)
    idle_customer(register_a)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = count()
    for _ in range(12):
        customer = idle_customer(register_a)
        InvoiceFactory(customer=customer, status="open")
    assert count() == few
