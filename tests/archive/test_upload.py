"""The expert's upload of historical mail: .eml and .mbox files through the one archiving service."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from archive.forms import ERROR_EMPTY_MBOX, ERROR_NO_FILE, ERROR_NOT_MAIL, ERROR_TOO_LARGE
from crm.models import ContactCentreMessage
from registers.models import Role
from registers.validators import IDENTITY_CODE_MASK

from ..conftest import grant
from ..factories import ContactCentreRegisterFactory, OrderingClientFactory, UserFactory
from . import mail_samples

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def centre():
    register = ContactCentreRegisterFactory(slug="contact-centre")
    return {
        "register": register,
        "education": OrderingClientFactory(register=register, department="Kasvatuksen toimiala"),
        "culture": OrderingClientFactory(register=register, department="Kulttuurin toimiala"),
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


def upload_url(register) -> str:
    return reverse("archive:message-upload", kwargs={"register": register.slug})


def mbox(*messages: bytes) -> bytes:
    return b"".join(
        b"From MAILER-DAEMON Mon Nov  2 10:00:00 2026\n" + raw.replace(b"\r\n", b"\n") + b"\n" for raw in messages
    )


def post(client, centre, content: bytes, *, name="mail.eml", client_key="education", direction="in"):
    return client.post(
        upload_url(centre["register"]),
        {
            "file": SimpleUploadedFile(name, content),
            "ordering_client": str(centre[client_key].code),
            "direction": direction,
        },
        follow=True,
    )


def test_an_expert_uploads_an_eml_and_sees_it_archived_with_a_link(client, expert, centre):
    client.force_login(expert)
    raw = mail_samples.with_attachments(body="Lomake liitteenä, terveisin Maija.")
    response = post(client, centre, raw)
    message = ContactCentreMessage.objects.get()
    assert message.intake == ContactCentreMessage.Intake.UPLOAD
    assert message.ordering_client == centre["education"]
    assert message.direction == ContactCentreMessage.Direction.INCOMING
    assert message.attachments.count() == 1
    content = response.content.decode()
    assert "1 message archived" in content
    assert reverse("crm:message-detail", kwargs={"register": "contact-centre", "code": message.code}) in content


def test_an_mbox_is_archived_message_by_message_with_counts(client, expert, centre):
    client.force_login(expert)
    first = mail_samples.plain(subject="Ensimmäinen", message_id="<one@example.fi>")
    already = mail_samples.plain(subject="Jo arkistossa", message_id="<two@example.fi>")
    post(client, centre, already)
    response = post(
        client,
        centre,
        mbox(first, already, mail_samples.garbage(), mail_samples.latin1()),
        name="export.mbox",
        direction="out",
    )
    content = response.content.decode()
    assert "2 messages archived" in content
    assert "1 message was already in the archive" in content
    assert "1 message could not be read" in content
    assert ContactCentreMessage.objects.count() == 4
    assert ContactCentreMessage.objects.filter(unreadable=True).count() == 1
    subjects = set(ContactCentreMessage.objects.filter(direction="out").values_list("subject", flat=True))
    assert {"Ensimmäinen", "Päivää"} <= subjects
    # Every message of the file is linked, the one already in the archive included.
    in_file = ContactCentreMessage.objects.filter(Q(direction="out") | Q(internet_message_id="two@example.fi"))
    assert in_file.count() == 4
    for message in in_file:
        assert reverse("crm:message-detail", kwargs={"register": "contact-centre", "code": message.code}) in content


def test_each_uploaded_message_has_a_creation_entry_naming_the_uploader(client, expert, centre, settings):
    settings.ARCHIVE_FETCH_BATCH = 2
    client.force_login(expert)
    post(client, centre, mbox(*(mail_samples.plain(body=f"Viesti {n}") for n in range(5))), name="a.mbox")
    messages = ContactCentreMessage.objects.all()
    assert messages.count() == 5
    created = LogEntry.objects.get_for_objects(messages).filter(action=LogEntry.Action.CREATE)
    assert created.count() == 5
    assert set(created.values_list("actor", flat=True)) == {expert.pk}
    # The trail records that the message came, not its text again.
    assert all("body" not in entry.changes_dict for entry in created)
    assert all(entry.additional_data["register"] == centre["register"].pk for entry in created)


def test_an_mbox_is_recognised_by_its_content_not_its_name(client, expert, centre):
    client.force_login(expert)
    post(client, centre, mbox(mail_samples.plain(), mail_samples.plain()), name="export.eml")
    assert ContactCentreMessage.objects.count() == 2


def test_the_upload_is_one_access_log_entry_with_counts(client, expert, centre):
    client.force_login(expert)
    post(client, centre, mbox(mail_samples.plain(), mail_samples.plain()), name="a.mbox")
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=expert)
    upload_entries = [entry for entry in entries if (entry.additional_data or {}).get("upload") == "archive_mail"]
    assert len(upload_entries) == 1
    data = upload_entries[0].additional_data
    assert (data["archived"], data["already"], data["unreadable"]) == (2, 0, 0)
    assert data["register"] == centre["register"].pk
    assert data["ordering_client"] == str(centre["education"].pk)


def test_identity_codes_of_an_uploaded_message_are_masked_on_the_result_page(client, expert, centre):
    client.force_login(expert)
    response = post(client, centre, mail_samples.plain(subject="Hetu 131052-308T", body="Hetuni on 131052-308T."))
    content = response.content.decode()
    assert "131052-308T" not in content
    assert IDENTITY_CODE_MASK in ContactCentreMessage.objects.get().subject


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (b"", "empty.eml", ERROR_NO_FILE),
        (mail_samples.garbage(), "garbage.eml", ERROR_NOT_MAIL),
        (mail_samples.PDF, "lomake.eml", ERROR_NOT_MAIL),
        (b"Hello, this is just a text file.\nWith two lines.\n", "notes.eml", ERROR_NOT_MAIL),
        (b"From nobody\n", "empty.mbox", ERROR_EMPTY_MBOX),
        (b"From nobody\n\n\nFrom somebody\n  \n", "blank.mbox", ERROR_EMPTY_MBOX),
    ],
)
def test_a_file_that_is_not_mail_is_refused_with_nothing_archived(client, expert, centre, content, name, error):
    client.force_login(expert)
    response = post(client, centre, content, name=name)
    assert response.status_code == 200
    assert str(error) in response.content.decode()
    assert ContactCentreMessage.objects.count() == 0


def test_a_file_over_the_limit_is_refused(client, expert, centre, settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 1024 * 1024
    client.force_login(expert)
    response = post(client, centre, mail_samples.plain(body="x" * (1024 * 1024)))
    assert response.status_code == 200
    assert str(ERROR_TOO_LARGE) % {"limit": 1} in response.content.decode()
    assert ContactCentreMessage.objects.count() == 0


def test_a_large_mbox_is_read_from_a_temporary_file_one_message_at_a_time(client, expert, centre, settings):
    # Above FILE_UPLOAD_MAX_MEMORY_SIZE Django hands over a file on disk, which the mbox reader opens directly.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    client.force_login(expert)
    messages = [mail_samples.plain(subject=f"Viesti {n}", body="Rivi.\n" * 50) for n in range(30)]
    response = post(client, centre, mbox(*messages), name="big.mbox")
    assert "30 messages archived" in response.content.decode()
    assert ContactCentreMessage.objects.count() == 30


def test_another_registers_ordering_client_is_refused(client, expert, centre):
    other = OrderingClientFactory()
    client.force_login(expert)
    centre["other"] = other
    response = post(client, centre, mail_samples.plain(), client_key="other")
    assert "Choose one of the ordering clients listed." in response.content.decode()
    assert ContactCentreMessage.objects.count() == 0


def test_a_client_manager_gets_403(client, manager, centre):
    client.force_login(manager)
    assert client.get(upload_url(centre["register"])).status_code == 403
    response = post(client, centre, mail_samples.plain())
    assert response.status_code == 403
    assert ContactCentreMessage.objects.count() == 0


def test_a_user_of_another_register_gets_404(client, centre):
    stranger = UserFactory(username="stranger")
    grant(stranger, ContactCentreRegisterFactory(), Role.CONTACT_CENTRE_EXPERT)
    client.force_login(stranger)
    assert client.get(upload_url(centre["register"])).status_code == 404
    assert post(client, centre, mail_samples.plain()).status_code == 404
    assert ContactCentreMessage.objects.count() == 0


def test_a_customer_register_gets_404_even_for_its_owner(client, owner_a, register_a):
    client.force_login(owner_a)
    assert client.get(upload_url(register_a)).status_code == 404


@pytest.mark.parametrize("role", [Role.OWNER, Role.HANDLER, Role.CONTACT_CENTRE_EXPERT])
def test_the_keepers_and_experts_may_upload(client, centre, role):
    user = UserFactory(username=f"user_{role}")
    grant(user, centre["register"], role)
    client.force_login(user)
    response = client.get(upload_url(centre["register"]))
    assert response.status_code == 200
    options = json.dumps(response.content.decode())
    assert "Kasvatuksen toimiala" in options
    assert "Kulttuurin toimiala" in options


def test_a_client_whose_messages_the_purge_removes_is_not_offered(client, expert, centre, settings):
    settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS = 30
    OrderingClientFactory(
        register=centre["register"],
        department="Lakkautettu toimiala",
        active_until=timezone.localdate() - datetime.timedelta(days=40),
    )
    client.force_login(expert)
    assert "Lakkautettu toimiala" not in client.get(upload_url(centre["register"])).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(plain_client, centre):
    response = plain_client.get(upload_url(centre["register"]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
