"""The disclosure ledger and art. 19 notifications (PRIVACY.md "Notify recipients", "Access: ... recipients")."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from privacy.requests import access_package
from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition
from privacy.rights import disclosures, erasure, rectification, refusals
from privacy.rights import services as rights
from privacy.rights.models import Disclosure, NotificationTask

from ...factories import CustomerFactory, PersonCustomerFactory
from .. import rights_steps, steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
TaskStatus = NotificationTask.Status


def disclose(customer, actor, recipient, **extra):
    data = {
        "recipient": recipient,
        "recipient_kind": Disclosure.RecipientKind.LEGAL_SERVICES,
        "data_description": "nimi ja osoite",
        "legal_basis": "621/1999 16(3) §",
        **extra,
    }
    return disclosures.disclosure_record(actor=actor, register=customer.register, customer=customer, data=data)


def test_a_disclosure_is_recorded_with_recipient_data_basis_time_and_actor(client, register_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    client.force_login(staff_a)
    url = reverse("privacy:disclosures", kwargs={"register": register_a.slug})
    assert customer.display_name in client.get(url, {"customer": customer.code}).content.decode()

    response = client.post(
        url,
        {
            "customer": customer.code,
            "recipient": "Kaupungin lakipalvelut",
            "recipient_kind": "legal_services",
            "data_description": "nimi, osoite ja laskut",
            "legal_basis": "621/1999 16(3) §",
            "disclosed_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 302
    disclosure = Disclosure.objects.get()
    assert (disclosure.customer, disclosure.actor, disclosure.legal_basis) == (customer, staff_a, "621/1999 16(3) §")
    assert disclosure.disclosed_at <= timezone.now()
    assert "Kaupungin lakipalvelut" in client.get(url).content.decode()


def test_the_ledger_is_404_for_another_register_and_read_only_staff_cannot_record(
    client, register_a, staff_b, readonly_a
):
    customer = PersonCustomerFactory(register=register_a)
    url = reverse("privacy:disclosures", kwargs={"register": register_a.slug})
    data = {
        "customer": customer.code,
        "recipient": "X",
        "recipient_kind": "other",
        "data_description": "nimi",
        "legal_basis": "sopimus",
        "disclosed_on": timezone.localdate().isoformat(),
    }
    client.force_login(staff_b)
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    client.force_login(readonly_a)
    assert client.get(url).status_code == 200
    assert client.post(url, data).status_code == 403
    assert not Disclosure.objects.exists()


def test_a_customer_of_another_register_cannot_be_put_in_the_ledger(client, register_a, register_b, staff_a):
    stranger = PersonCustomerFactory(register=register_b)
    with pytest.raises(ValidationError):
        disclose_into(register_a, stranger, staff_a)
    client.force_login(staff_a)
    response = client.post(
        reverse("privacy:disclosures", kwargs={"register": register_a.slug}),
        {
            "customer": stranger.code,
            "recipient": "X",
            "recipient_kind": "other",
            "data_description": "nimi",
            "legal_basis": "sopimus",
            "disclosed_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 404


def disclose_into(register, customer, actor):
    return disclosures.disclosure_record(
        actor=actor,
        register=register,
        customer=customer,
        data={"recipient": "X", "recipient_kind": "other", "data_description": "nimi", "legal_basis": "sopimus"},
    )


def rectified(register, handler, customer):
    request = rights_steps.in_progress([register], handler, kind=Kind.RECTIFICATION, records=[customer], language="en")
    rectification.rectification_item_add(
        request=request, actor=handler, match=request.matches.get(), field="city", requested_value="Oulu"
    )
    rectification.rectification_apply(request=request, actor=handler)
    return request


def test_every_recipient_of_rectified_data_gets_one_task_and_closing_waits_for_all(
    register_a, handler_a, owner_a, staff_a
):
    customer = PersonCustomerFactory(register=register_a)
    disclose(customer, staff_a, "Kaupungin lakipalvelut")
    disclose(customer, staff_a, "kaupungin  lakipalvelut ")  # the same recipient, typed differently
    disclose(customer, staff_a, "Perintä Oy", recipient_kind="partner", legal_basis="toimeksiantosopimus")
    disclose(PersonCustomerFactory(register=register_a), staff_a, "Muu vastaanottaja")  # someone else's data

    request = rectified(register_a, handler_a, customer)

    tasks = {task.recipient: task for task in request.notification_tasks.all()}
    assert set(tasks) == {"Kaupungin lakipalvelut", "Perintä Oy"}
    assert tasks["Kaupungin lakipalvelut"].disclosures.count() == 2
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(request=request, actor=owner_a)
    assert request.state == State.RESPONDED
    assert "Perintä Oy" in request.letters.get().text

    with pytest.raises(ValidationError, match="Perintä Oy"):
        request_transition(request=request, to=State.CLOSED, actor=handler_a)
    disclosures.notification_task_resolve(task=tasks["Kaupungin lakipalvelut"], actor=handler_a, status=TaskStatus.DONE)
    with pytest.raises(ValidationError):
        # "Impossible or disproportionate" needs its justification written down.
        disclosures.notification_task_resolve(
            task=tasks["Perintä Oy"], actor=handler_a, status=TaskStatus.JUSTIFIED, justification="impossible"
        )
    disclosures.notification_task_resolve(
        task=tasks["Perintä Oy"],
        actor=handler_a,
        status=TaskStatus.JUSTIFIED,
        justification="impossible",
        note="The company has been dissolved; no successor.",
    )
    request = request_transition(request=request, to=State.CLOSED, actor=handler_a)
    assert request.state == State.CLOSED


def test_the_task_page_resolves_a_task_and_another_registers_staff_gets_404(
    client, register_a, handler_a, staff_a, staff_b, readonly_a
):
    customer = PersonCustomerFactory(register=register_a)
    disclose(customer, staff_a, "Kaupungin lakipalvelut")
    request = rectified(register_a, handler_a, customer)
    task = request.notification_tasks.get()
    url = reverse("privacy:rights-notification", kwargs={"code": request.code, "task": task.code})
    client.force_login(staff_b)
    assert client.post(url, {"status": "done"}).status_code == 404
    client.force_login(readonly_a)
    assert client.post(url, {"status": "done"}).status_code == 403
    client.force_login(handler_a)
    page = client.get(reverse("privacy:rights", kwargs={"code": request.code})).content.decode()
    assert "Kaupungin lakipalvelut" in page
    assert client.post(url, {"status": "done"}).status_code == 302
    task.refresh_from_db()
    assert (task.status, task.resolved_by) == (TaskStatus.DONE, handler_a)


def test_an_erasure_is_passed_on_to_recipients_and_the_ledger_keeps_the_disclosure(
    register_a, handler_a, owner_a, staff_a
):
    customer = PersonCustomerFactory(register=register_a)
    disclosure = disclose(customer, staff_a, "Kaupungin lakipalvelut")
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.ERASURE, records=[customer])
    erasure.erasure_plan_compute(request=request, actor=handler_a)
    rights_steps.prepared(request, handler_a)

    erasure.erasure_execute(request=request, actor=owner_a)

    task = request.notification_tasks.get()
    assert task.recipient == "Kaupungin lakipalvelut"
    disclosure.refresh_from_db()
    assert disclosure.customer is None  # the person is gone, the fact of the disclosure stays
    assert list(task.disclosures.all()) == [disclosure]


def test_a_restriction_is_passed_on_to_recipients(register_a, handler_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    disclose(customer, staff_a, "Kaupungin lakipalvelut")
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.RESTRICTION, records=[customer])
    rights.restriction_apply(request=request, actor=handler_a)
    assert request.notification_tasks.get().change == Kind.RESTRICTION


def test_an_organisations_disclosure_is_passed_on_when_its_contact_persons_data_is_corrected(
    register_a, handler_a, staff_a
):
    organisation = CustomerFactory(register=register_a)
    from ...factories import ContactPersonFactory

    person = ContactPersonFactory(customer=organisation)
    disclose(organisation, staff_a, "Kumppani Oy", recipient_kind="partner")
    request = rights_steps.in_progress([register_a], handler_a, kind=Kind.RECTIFICATION, records=[person])
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=request.matches.get(), field="title", requested_value="Johtaja"
    )
    rectification.rectification_apply(request=request, actor=handler_a)
    assert list(request.notification_tasks.values_list("recipient", flat=True)) == ["Kumppani Oy"]


def test_the_access_answer_lists_the_recipients(register_a, handler_a, staff_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer = PersonCustomerFactory(register=register_a)
    disclose(customer, staff_a, "Kaupungin lakipalvelut", disclosed_at=timezone.now() - datetime.timedelta(days=3))
    request = steps.in_progress(register_a, handler_a)
    steps.checked(request, handler_a, register_a, [customer])

    content = access_package.package_content(request=request)

    [row] = content["registers"][0]["disclosures"]
    assert row["recipient"] == "Kaupungin lakipalvelut"
    assert row["legal_basis"] == "621/1999 16(3) §"
    assert "T" not in row["date"]  # a date, not a time
    assert "Kaupungin lakipalvelut" in access_package.render_html(content)
    assert (
        "Kaupungin lakipalvelut"
        in json.loads(access_package.render_json(content))["registers"][0]["disclosures"][0]["recipient"]
    )
