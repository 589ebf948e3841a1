"""Deleting a customer is the owner's, and a colleague's timeline entry is changed only by the owner.

Per role: the service refuses with PermissionDenied, the view answers 403 and the page hides the control;
the owner's deletion stays in the audit trail.
"""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, Interaction
from crm.selectors import ERROR_NO_DELETE_RIGHT, ERROR_OTHERS_ENTRY
from crm.services import customer_delete, interaction_delete, interaction_update

from ..factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def delete_url(customer):
    return reverse("crm:customer-delete", kwargs={"register": customer.register.slug, "code": customer.code})


def entry_url(name, interaction):
    customer = interaction.customer
    kwargs = {"register": customer.register.slug, "code": customer.code, "interaction": interaction.code}
    return reverse(f"crm:interaction-{name}", kwargs=kwargs)


def entry_data():
    return {"kind": "note", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "subject": "Korjattu"}


@pytest.mark.parametrize("role", ["staff_a", "handler_a"])
def test_staff_and_handlers_may_not_delete_a_customer(request, client, register_a, role):
    user = request.getfixturevalue(role)
    customer = CustomerFactory(register=register_a)
    with pytest.raises(PermissionDenied) as refused:
        customer_delete(actor=user, customer=customer)
    assert str(refused.value) == str(ERROR_NO_DELETE_RIGHT)
    client.force_login(user)
    assert client.get(delete_url(customer)).status_code == 403
    assert client.post(delete_url(customer)).status_code == 403
    assert delete_url(customer) not in client.get(customer.get_absolute_url()).content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_owner_deletes_a_customer_and_the_deletion_is_audited(client, register_a, owner_a):
    customer = CustomerFactory(register=register_a, organisation_name="Merituuli Oy")
    InteractionFactory(customer=customer)
    client.force_login(owner_a)
    assert delete_url(customer) in client.get(customer.get_absolute_url()).content.decode()
    assert client.post(delete_url(customer)).status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    entry = LogEntry.objects.get(action=LogEntry.Action.DELETE, object_pk=str(customer.pk), object_repr="Merituuli Oy")
    assert entry.actor == owner_a


def test_a_role_that_has_ended_no_longer_deletes(register_a, owner_a):
    from registers.models import Membership

    Membership.objects.filter(user=owner_a).update(ended_at=timezone.now())
    with pytest.raises(PermissionDenied):
        customer_delete(actor=owner_a, customer=CustomerFactory(register=register_a))


def test_staff_changes_and_removes_their_own_entry(client, register_a, staff_a):
    own = InteractionFactory(customer=CustomerFactory(register=register_a), staff_user=staff_a)
    client.force_login(staff_a)
    html = client.get(own.customer.get_absolute_url()).content.decode()
    assert entry_url("update", own) in html
    assert entry_url("delete", own) in html
    assert client.post(entry_url("update", own), entry_data()).status_code == 302
    own.refresh_from_db()
    assert own.subject == "Korjattu"
    assert client.post(entry_url("delete", own)).status_code == 302
    assert not Interaction.objects.filter(pk=own.pk).exists()


@pytest.mark.parametrize("role", ["staff_a", "handler_a"])
def test_a_colleagues_entry_is_refused_without_the_right(request, client, register_a, staff_a, role):
    user = request.getfixturevalue(role)
    colleague = staff_a if role != "staff_a" else request.getfixturevalue("handler_a")
    theirs = InteractionFactory(customer=CustomerFactory(register=register_a), staff_user=colleague, subject="Alkup.")
    unknown = InteractionFactory(customer=theirs.customer, staff_user=None)
    for entry in (theirs, unknown):
        with pytest.raises(PermissionDenied) as refused:
            interaction_update(actor=user, interaction=entry, data={"subject": "Muutettu"})
        assert str(refused.value) == str(ERROR_OTHERS_ENTRY)
        with pytest.raises(PermissionDenied):
            interaction_delete(actor=user, interaction=entry)
    client.force_login(user)
    html = client.get(theirs.customer.get_absolute_url()).content.decode()
    for entry in (theirs, unknown):
        assert entry_url("update", entry) not in html
        assert entry_url("delete", entry) not in html
        assert client.get(entry_url("update", entry)).status_code == 403
        assert client.post(entry_url("update", entry), entry_data()).status_code == 403
        assert client.post(entry_url("delete", entry)).status_code == 403
    theirs.refresh_from_db()
    assert theirs.subject == "Alkup."
    assert Interaction.objects.count() == 2


def test_the_owner_corrects_and_removes_a_colleagues_entry(client, register_a, owner_a, staff_a):
    theirs = InteractionFactory(customer=CustomerFactory(register=register_a), staff_user=staff_a)
    client.force_login(owner_a)
    html = client.get(theirs.customer.get_absolute_url()).content.decode()
    assert entry_url("update", theirs) in html
    assert client.post(entry_url("update", theirs), entry_data()).status_code == 302
    theirs.refresh_from_db()
    assert theirs.subject == "Korjattu"
    # The correction stays attributed to the owner in the trail; the entry keeps its author.
    assert theirs.staff_user == staff_a
    assert LogEntry.objects.filter(action=LogEntry.Action.UPDATE, object_pk=str(theirs.pk), actor=owner_a).exists()
    assert client.post(entry_url("delete", theirs)).status_code == 302
    assert not Interaction.objects.filter(pk=theirs.pk).exists()
