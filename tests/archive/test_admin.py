"""Mailbox settings in the admin: the password is written once, sealed, and shown or logged nowhere."""

import json

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from archive.forms import ERROR_PASSWORD_REQUIRED
from archive.models import Mailbox, RecordingList
from registers.models import Role

from ..conftest import grant
from ..factories import OrderingClientFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "Kissa-kävelee-7-Katolla"


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def ordering_client():
    return OrderingClientFactory(department="Kasvatuksen toimiala")


@pytest.fixture
def main_client(client, main_user):
    client.force_login(main_user)
    return client


def form_data(ordering_client, **overrides) -> dict:
    return {
        "ordering_client": ordering_client.pk,
        "name": "Neuvonta",
        "enabled": "on",
        "poll_minutes": 5,
        "host": "imap.example.fi",
        "port": 993,
        "security": "tls",
        "username": "neuvonta@example.fi",
        "password": SECRET,
        "inbox_folder": "INBOX",
        "sent_folder": "Sent",
        "processed_folder": "",
        **overrides,
    }


def add(client, ordering_client, **overrides):
    return client.post(reverse("admin:archive_mailbox_add"), form_data(ordering_client, **overrides), follow=True)


def all_rows_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM archive_mailbox")
        return json.dumps(cursor.fetchall(), default=str)


@pytest.mark.usefixtures("english")
def test_a_main_user_adds_a_mailbox_whose_password_is_sealed_and_never_shown(main_client, ordering_client):
    response = add(main_client, ordering_client)
    assert response.status_code == 200
    mailbox = Mailbox.objects.get()
    assert mailbox.password() == SECRET
    assert SECRET not in response.content.decode()
    change_page = main_client.get(reverse("admin:archive_mailbox_change", args=[mailbox.pk])).content.decode()
    assert SECRET not in change_page
    assert mailbox.sealed_password not in change_page, "not even the sealed token reaches the page"
    assert "Leave empty to keep the current password." in change_page
    assert SECRET not in all_rows_text(), "the database holds the password sealed only"


def test_the_password_is_in_no_audit_entry_or_admin_history(main_client, ordering_client):
    add(main_client, ordering_client)
    mailbox = Mailbox.objects.get()
    main_client.post(
        reverse("admin:archive_mailbox_change", args=[mailbox.pk]),
        form_data(ordering_client, password="Uusi-salasana-99", name="Neuvonta 2"),
    )
    trail = json.dumps(list(LogEntry.objects.values()), default=str)
    history = json.dumps(list(AdminLogEntry.objects.values()), default=str)
    for text in (trail, history):
        assert SECRET not in text
        assert "Uusi-salasana-99" not in text
        assert mailbox.sealed_password not in text
    assert LogEntry.objects.get_for_object(mailbox).exists(), "the mailbox's other changes are audited"
    history_page = main_client.get(reverse("admin:archive_mailbox_history", args=[mailbox.pk])).content.decode()
    assert "Uusi-salasana-99" not in history_page


def test_an_empty_password_on_change_keeps_the_current_one(main_client, ordering_client):
    add(main_client, ordering_client)
    mailbox = Mailbox.objects.get()
    main_client.post(
        reverse("admin:archive_mailbox_change", args=[mailbox.pk]), form_data(ordering_client, password="", port=143)
    )
    mailbox.refresh_from_db()
    assert (mailbox.port, mailbox.password()) == (143, SECRET)


def test_a_new_password_replaces_the_old(main_client, ordering_client):
    add(main_client, ordering_client)
    mailbox = Mailbox.objects.get()
    main_client.post(
        reverse("admin:archive_mailbox_change", args=[mailbox.pk]), form_data(ordering_client, password="Toinen-1")
    )
    mailbox.refresh_from_db()
    assert mailbox.password() == "Toinen-1"


@pytest.mark.usefixtures("english")
def test_a_new_mailbox_needs_a_password(main_client, ordering_client):
    response = add(main_client, ordering_client, password="")
    assert escape(str(ERROR_PASSWORD_REQUIRED)) in response.content.decode()
    assert Mailbox.objects.count() == 0


def test_the_list_shows_the_poll_state_in_the_readers_language(main_client, ordering_client):
    add(main_client, ordering_client)
    Mailbox.objects.filter(pk=Mailbox.objects.get().pk).update(
        last_problems=[{"problem": "login"}, {"problem": "folder_missing", "folder": "Lähetetyt"}]
    )
    for language in ("fi", "sv", "en"):
        main_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = main_client.get(reverse("admin:archive_mailbox_changelist")).content.decode()
        assert "Kasvatuksen toimiala" in page
        assert "imap.example.fi" in page
        with translation.override(language):
            expected = [str(Mailbox.Problem.LOGIN.label), str(Mailbox.Problem.FOLDER_MISSING.label)]
        assert escape(expected[0]) in page, language
        assert escape(expected[1] % {"folder": "Lähetetyt"}) in page, language


def test_only_a_main_user_reaches_the_mailbox_pages(client, main_user, ordering_client):
    staff_outside = UserFactory(username="staff_outside", is_staff=True)
    owner = UserFactory(username="cc_owner")
    grant(owner, ordering_client.register, Role.OWNER)
    changelist = reverse("admin:archive_mailbox_changelist")
    add_url = reverse("admin:archive_mailbox_add")

    client.force_login(staff_outside)
    assert client.get(changelist).status_code == 403
    assert client.get(add_url).status_code == 403
    assert client.post(add_url, form_data(ordering_client)).status_code == 403
    client.force_login(owner)
    assert client.get(changelist).status_code == 302, "not staff: the admin sends them to sign in"
    assert Mailbox.objects.count() == 0

    client.force_login(main_user)
    assert client.get(changelist).status_code == 200


def test_a_mailbox_is_not_deleted_in_the_admin(main_client, ordering_client):
    add(main_client, ordering_client)
    mailbox = Mailbox.objects.get()
    assert main_client.get(reverse("admin:archive_mailbox_delete", args=[mailbox.pk])).status_code == 403


def test_recording_lists_are_shown_read_only_with_their_problems(main_client, settings):
    settings.LANGUAGE_CODE = "en"
    recording_list = RecordingList.objects.create(
        sha256="a" * 64, filename="2026-11-29.csv", imported=3, skipped=1, problems=[{"row": 4, "reason": "seat"}]
    )
    page = main_client.get(reverse("admin:archive_recordinglist_changelist")).content.decode()
    assert "2026-11-29.csv" in page
    detail = main_client.get(reverse("admin:archive_recordinglist_change", args=[recording_list.pk]))
    assert "Row 4: The seat code is missing or longer than 20 characters." in detail.content.decode()
    assert main_client.get(reverse("admin:archive_recordinglist_add")).status_code == 403
    response = main_client.post(
        reverse("admin:archive_recordinglist_change", args=[recording_list.pk]), {"filename": "x.csv"}
    )
    assert response.status_code == 403
    recording_list.refresh_from_db()
    assert recording_list.filename == "2026-11-29.csv"
