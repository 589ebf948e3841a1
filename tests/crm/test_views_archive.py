import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from registers.models import Role

from ..conftest import grant
from ..factories import (
    CallRecordingFactory,
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    OrderingClientFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def centre():
    register = ContactCentreRegisterFactory(slug="contact-centre")
    education = OrderingClientFactory(register=register, department="Kasvatuksen toimiala")
    culture = OrderingClientFactory(register=register, department="Kulttuurin toimiala")
    return {
        "register": register,
        "education": education,
        "culture": culture,
        "education_message": ContactCentreMessageFactory(ordering_client=education, subject="Päiväkotipaikka"),
        "culture_message": ContactCentreMessageFactory(ordering_client=culture, subject="Museon aukiolo"),
        "education_call": CallRecordingFactory(ordering_client=education, caller_number_fragment="1111"),
        "culture_call": CallRecordingFactory(ordering_client=culture, caller_number_fragment="2222"),
    }


@pytest.fixture
def expert(centre):
    user = UserFactory(username="cc_expert")
    grant(user, centre["register"], Role.CONTACT_CENTRE_EXPERT)
    return user


@pytest.fixture
def manager(centre):
    user = UserFactory(username="cc_manager")
    grant(user, centre["register"], Role.CLIENT_MANAGER)
    centre["education"].managers.add(user)
    return user


def url(name, centre, **kwargs):
    return reverse(f"crm:{name}", kwargs={"register": centre["register"].slug, **kwargs})


def test_an_expert_sees_every_departments_messages(client, expert, centre):
    client.force_login(expert)
    html = client.get(url("message-list", centre)).content.decode()
    assert "Päiväkotipaikka" in html
    assert "Museon aukiolo" in html


def test_the_archive_filters_by_ordering_client(client, expert, centre):
    client.force_login(expert)
    html = client.get(url("message-list", centre) + f"?ordering_client={centre['culture'].code}").content.decode()
    assert "Museon aukiolo" in html
    assert "Päiväkotipaikka" not in html
    html = client.get(
        url("call-recording-list", centre) + f"?ordering_client={centre['culture'].code}"
    ).content.decode()
    assert "…2222" in html
    assert "…1111" not in html


def test_a_client_manager_sees_only_the_own_department(client, manager, centre):
    client.force_login(manager)
    response = client.get(url("message-list", centre))
    html = response.content.decode()
    assert "Päiväkotipaikka" in html
    assert "Museon aukiolo" not in html
    # The filter offers only the manager's own department.
    assert "Kulttuurin toimiala" not in html
    recordings = client.get(url("call-recording-list", centre)).content.decode()
    assert "…1111" in recordings
    assert "…2222" not in recordings


def test_a_client_manager_cannot_open_another_departments_message(client, manager, centre):
    client.force_login(manager)
    assert client.get(url("message-detail", centre, code=centre["culture_message"].code)).status_code == 404
    assert client.get(url("message-detail", centre, code=centre["education_message"].code)).status_code == 200


def test_a_client_manager_filtering_by_another_department_sees_nothing_of_it(client, manager, centre):
    client.force_login(manager)
    html = client.get(url("message-list", centre) + f"?ordering_client={centre['culture'].code}").content.decode()
    assert "Museon aukiolo" not in html


def test_a_message_is_shown_exactly_as_archived_with_no_edit_or_delete_controls(client, expert, centre):
    message = centre["education_message"]
    client.force_login(expert)
    html = client.get(url("message-detail", centre, code=message.code)).content.decode()
    assert message.body in html
    main = html.split("<main", 1)[1]
    assert 'method="post"' not in main
    assert "/edit/" not in main
    assert "/delete/" not in main


def test_viewing_a_message_is_access_logged(client, expert, centre):
    message = centre["education_message"]
    client.force_login(expert)
    client.get(url("message-detail", centre, code=message.code))
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_id=message.pk, actor=expert).exists()


def test_the_archive_lists_have_no_post_forms(client, expert, centre):
    client.force_login(expert)
    for name in ("message-list", "call-recording-list"):
        main = client.get(url(name, centre)).content.decode().split("<main", 1)[1]
        assert 'method="post"' not in main
