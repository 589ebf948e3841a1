"""An interaction that reports something done (a call, an e-mail, a meeting) cannot be dated in the future."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from crm.forms import InteractionForm
from crm.models import ERROR_INTERACTION_IN_FUTURE, Interaction
from crm.services import interaction_create, interaction_update

from ..factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

PAST_KINDS = ["call_in", "call_out", "email_in", "email_out", "meeting"]
PLANNABLE_KINDS = ["event", "assignment", "purchased_service", "note"]


def create_url(customer):
    return reverse("crm:interaction-create", kwargs={"register": customer.register.slug, "code": customer.code})


def form_time(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def next_year() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=365)


@pytest.mark.parametrize("kind", PAST_KINDS)
def test_the_form_refuses_a_call_email_or_meeting_in_the_future(client, staff_a, register_a, kind):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    data = {"kind": kind, "occurred_at": form_time(next_year()), "subject": "Kysyi messuista"}
    with translation.override("fi"):
        response = client.post(create_url(customer), data, HTTP_ACCEPT_LANGUAGE="fi")
        expected = str(ERROR_INTERACTION_IN_FUTURE)
        assert response.status_code == 200
        assert response.context["form"].errors["occurred_at"] == [expected]
    # The page says it in the user's language (a translated constant), next to the field, and keeps what was typed.
    assert expected in response.content.decode()
    assert "Kysyi messuista" in response.content.decode()
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("kind", PLANNABLE_KINDS)
def test_planned_kinds_may_be_dated_ahead(client, staff_a, register_a, kind):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    data = {"kind": kind, "occurred_at": form_time(next_year()), "subject": "Messut keväällä"}
    assert client.post(create_url(customer), data).status_code == 302
    assert Interaction.objects.get().kind == kind


def test_a_call_just_now_is_accepted_despite_a_clock_slightly_ahead(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    data = {"kind": "call_in", "occurred_at": form_time(timezone.now() + datetime.timedelta(minutes=2)), "subject": "x"}
    assert client.post(create_url(customer), data).status_code == 302


def test_the_model_refuses_it_on_every_service_path(register_a, staff_a):
    customer = CustomerFactory(register=register_a)
    with pytest.raises(ValidationError) as caught:
        interaction_create(
            actor=staff_a, customer=customer, data={"kind": "call_in", "occurred_at": next_year(), "subject": "x"}
        )
    assert caught.value.message_dict == {"occurred_at": [str(ERROR_INTERACTION_IN_FUTURE)]}
    interaction = InteractionFactory(customer=customer, staff_user=staff_a, kind="event", occurred_at=next_year())
    # Changing a planned event into a held meeting while it is still ahead is refused as well.
    with pytest.raises(ValidationError):
        interaction_update(actor=staff_a, interaction=interaction, data={"kind": "meeting"})
    interaction.refresh_from_db()
    assert interaction.kind == "event"


def test_the_form_itself_refuses_it_before_any_service_runs(register_a):
    customer = CustomerFactory(register=register_a)
    data = {"kind": "email_in", "occurred_at": form_time(next_year()), "subject": "x"}
    form = InteractionForm(data, customer=customer)
    assert form.errors["occurred_at"] == [str(ERROR_INTERACTION_IN_FUTURE)]
    assert InteractionForm({**data, "kind": "event"}, customer=customer).is_valid()
