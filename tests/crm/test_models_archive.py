import pytest
from django.core.exceptions import ValidationError

from crm.models import ERROR_IMMUTABLE, CallRecording, ContactCentreMessage

from ..factories import CallRecordingFactory, ContactCentreMessageFactory, OrderingClientFactory, RegisterFactory

pytestmark = pytest.mark.django_db


def test_a_stored_message_cannot_be_saved_again():
    message = ContactCentreMessageFactory()
    message.body = "muokattu"
    with pytest.raises(ValidationError, match=str(ERROR_IMMUTABLE)):
        message.save()
    message.refresh_from_db()
    assert message.body == "Hei, kysyisin aukioloajoista."


def test_messages_cannot_be_changed_by_queryset_update():
    ContactCentreMessageFactory()
    with pytest.raises(ValidationError, match=str(ERROR_IMMUTABLE)):
        ContactCentreMessage.objects.update(body="muokattu")
    assert ContactCentreMessage.objects.get().body == "Hei, kysyisin aukioloajoista."


def test_messages_cannot_be_changed_by_bulk_update():
    message = ContactCentreMessageFactory()
    message.subject = "muokattu"
    with pytest.raises(ValidationError, match=str(ERROR_IMMUTABLE)):
        ContactCentreMessage.objects.bulk_update([message], ["subject"])
    assert ContactCentreMessage.objects.get().subject == "Kysymys"


def test_call_recordings_are_immutable_too():
    recording = CallRecordingFactory()
    recording.agent_location_code = "X"
    with pytest.raises(ValidationError):
        recording.save()
    with pytest.raises(ValidationError):
        CallRecording.objects.filter(pk=recording.pk).update(agent_location_code="X")


def test_archive_items_can_still_be_deleted_when_their_time_is_up():
    message = ContactCentreMessageFactory()
    message.delete()
    assert not ContactCentreMessage.objects.exists()


def test_only_four_digits_of_the_callers_number_are_kept():
    recording = CallRecordingFactory.build(ordering_client=OrderingClientFactory(), caller_number_fragment="0401234567")
    recording.register = recording.ordering_client.register
    with pytest.raises(ValidationError) as caught:
        recording.full_clean()
    assert "caller_number_fragment" in caught.value.message_dict


def test_a_message_must_belong_to_a_contact_centre_register():
    client = OrderingClientFactory()
    message = ContactCentreMessageFactory.build(ordering_client=client, register=RegisterFactory())
    with pytest.raises(ValidationError) as caught:
        message.full_clean()
    assert "register" in caught.value.message_dict


def test_the_admin_shows_archive_items_read_only(admin_client):
    message = ContactCentreMessageFactory()
    response = admin_client.get(f"/admin/crm/contactcentremessage/{message.pk}/change/")
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert admin_client.get("/admin/crm/contactcentremessage/add/").status_code == 403
