"""Reading the contact-centre archive: search, filters, threads, attachments, the original and the CSV export.

Messages are put in through the one archiving service (archive.services.message_archive), so the tests read
what a real intake stores: masked text, a sealed original and sealed attachments.
"""

import csv
import importlib
import io

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.services import message_archive
from crm import archive_search, selectors
from crm.models import ContactCentreMessage
from registers.models import Role
from registers.validators import ERROR_IDENTITY_CODE, IDENTITY_CODE_MASK
from tests.archive import mail_samples

from ..conftest import grant
from ..factories import (
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    OrderingClientFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CODE = "131052-308T"
INCOMING = ContactCentreMessage.Direction.INCOMING
OUTGOING = ContactCentreMessage.Direction.OUTGOING
UPLOAD = ContactCentreMessage.Intake.UPLOAD
ACCESS = LogEntry.Action.ACCESS


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def archive(raw, client, direction=INCOMING):
    return message_archive(raw=raw, ordering_client=client, direction=direction, intake=UPLOAD).message


@pytest.fixture
def centre():
    register = ContactCentreRegisterFactory(slug="keskus")
    education = OrderingClientFactory(register=register, department="Kasvatuksen toimiala")
    culture = OrderingClientFactory(register=register, department="Kulttuurin toimiala")
    other_register = ContactCentreRegisterFactory(slug="muu-keskus")
    elsewhere = OrderingClientFactory(register=other_register, department="Muu toimiala")
    return {
        "register": register,
        "education": education,
        "culture": culture,
        "other_register": other_register,
        "elsewhere": elsewhere,
        "invoice": archive(
            mail_samples.plain(
                subject="Päivähoitomaksu",
                body=f"Hei, lasku on väärin. Henkilötunnukseni on {CODE}.",
                message_id="<lasku@example.fi>",
            ),
            education,
        ),
        "museum": archive(
            mail_samples.plain(subject="Museon aukiolo", body="Onko museo auki, lasku?", message_id="<m@example.fi>"),
            culture,
        ),
        "foreign": archive(
            mail_samples.plain(subject="Toinen keskus", body="Toisen keskuksen lasku.", message_id="<f@example.fi>"),
            elsewhere,
        ),
    }


def person(centre, role, *, client=None, username):
    user = UserFactory(username=username)
    grant(user, centre["register"], role)
    if client is not None:
        centre[client].managers.add(user)
    return user


@pytest.fixture
def expert(centre):
    return person(centre, Role.CONTACT_CENTRE_EXPERT, username="cc_expert")


@pytest.fixture
def manager(centre):
    return person(centre, Role.CLIENT_MANAGER, client="education", username="cc_manager")


@pytest.fixture
def handler(centre):
    return person(centre, Role.HANDLER, username="cc_handler")


def url(name, centre, **kwargs):
    return reverse(f"crm:{name}", kwargs={"register": centre["register"].slug, **kwargs})


def page(client, address) -> str:
    response = client.get(address)
    assert response.status_code == 200, address
    return response.content.decode()


# Search.


def test_the_search_document_is_the_stored_columns_expression():
    migration = importlib.import_module("crm.migrations.0016_archive_intake")
    assert archive_search.DOCUMENT == migration.DOCUMENT


@pytest.mark.postgres
def test_on_postgresql_the_stored_search_document_follows_the_message(centre):
    message = archive(
        mail_samples.plain(subject="Kysymys", body="Pysäköintivirhe", message_id="<d@example.fi>"), centre["culture"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT search_document = {archive_search.DOCUMENT} FROM crm_contactcentremessage WHERE id = %s",  # noqa: S608 - constant SQL
            [message.pk],
        )
        assert cursor.fetchone() == (True,)


def test_a_search_finds_a_word_of_the_body_within_the_users_scope(client, expert, centre):
    client.force_login(expert)
    html = page(client, url("message-list", centre) + "?q=väärin")
    assert "Päivähoitomaksu" in html
    assert "Museon aukiolo" not in html
    # A word both ordering clients' messages share finds both, and nothing of the other register.
    html = page(client, url("message-list", centre) + "?q=lasku")
    assert "Päivähoitomaksu" in html
    assert "Museon aukiolo" in html
    assert "Toinen keskus" not in html


def test_a_managers_search_never_reaches_another_ordering_client(client, manager, centre):
    client.force_login(manager)
    html = page(client, url("message-list", centre) + "?q=lasku")
    assert "Päivähoitomaksu" in html
    assert "Museon aukiolo" not in html
    # Filtering by the other department gives nothing of it either.
    html = page(client, url("message-list", centre) + f"?q=museo&ordering_client={centre['culture'].code}")
    assert "Museon aukiolo" not in html


@pytest.mark.postgres
def test_on_postgresql_an_inflected_form_finds_the_base_form(centre, expert):
    everything = selectors.message_list(user=expert, register=centre["register"], search="laskun")
    assert set(everything.values_list("subject", flat=True)) == {"Päivähoitomaksu", "Museon aukiolo"}
    # Swedish stems too.
    archive(
        mail_samples.plain(subject="Fråga", body="Min faktura är fel.", message_id="<sv@example.fi>"), centre["culture"]
    )
    found = selectors.message_list(user=expert, register=centre["register"], search="fakturan")
    assert list(found.values_list("subject", flat=True)) == ["Fråga"]


@pytest.mark.postgres
def test_on_postgresql_the_search_reads_the_fulltext_index(centre, expert):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        # With sequential scans priced out and no other index on the condition, the plan names the full-text
        # index (the benchmark shows the real plans).
        plan = archive_search.matching(ContactCentreMessage.objects.all(), "laskun").explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
    assert "message_fulltext" in plan, plan


@pytest.mark.postgres
def test_on_postgresql_few_and_many_matches_list_the_same_messages_newest_first(centre, expert, monkeypatch):
    def listed():
        return selectors.message_list(user=expert, register=centre["register"], search="laskun")

    few = listed()
    assert '"search_document" @@' not in str(few.query), "a few matches are listed by key"
    monkeypatch.setattr(archive_search, "FEW_MATCHES", 1)
    many = listed()
    # The list's own query (with the ordering client's join) searches the stored column, qualified.
    assert '"crm_contactcentremessage"."search_document" @@' in str(many.query)
    subjects = list(many.values_list("subject", flat=True))
    assert subjects == list(few.values_list("subject", flat=True))
    assert set(subjects) == {"Päivähoitomaksu", "Museon aukiolo"}
    times = list(many.values_list("sent_at", flat=True))
    assert times == sorted(times, reverse=True)


def test_an_identity_code_typed_into_the_search_is_refused(client, expert, centre):
    client.force_login(expert)
    html = page(client, url("message-list", centre) + f"?q={CODE}")
    assert str(ERROR_IDENTITY_CODE) in html
    # Nothing was searched for: the list is unfiltered and the export link does not carry the code on.
    assert "2 items" in html
    assert f"messages.csv?q={CODE}" not in html


# Identity codes stay masked everywhere but the original.


def test_an_identity_code_in_a_body_is_masked_in_list_search_page_and_export(client, expert, centre):
    client.force_login(expert)
    message = centre["invoice"]
    assert message.identity_codes_masked == 1
    responses = [
        page(client, url("message-list", centre)),
        page(client, url("message-list", centre) + "?q=henkilötunnukseni"),
        page(client, url("message-detail", centre, code=message.code)),
        page(client, url("message-thread", centre, code=message.code)),
        b"".join(client.get(url("message-export", centre)).streaming_content).decode("utf-8-sig"),
    ]
    for text in responses:
        assert CODE not in text
    assert IDENTITY_CODE_MASK in responses[2]


def test_the_expert_opens_the_original_unmasked_and_it_is_logged(client, expert, centre):
    client.force_login(expert)
    message = centre["invoice"]
    address = url("message-original", centre, code=message.code)
    confirmation = client.get(address)
    assert confirmation.status_code == 200
    assert CODE not in confirmation.content.decode()
    assert "access log" in confirmation.content.decode()
    assert not LogEntry.objects.filter(action=ACCESS, object_id=message.pk, additional_data__original=True).exists()

    shown = client.post(address, {"action": "show"})
    assert shown.status_code == 200
    assert CODE in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    entry = LogEntry.objects.get(action=ACCESS, object_id=message.pk, additional_data__original=True)
    assert entry.actor == expert


def test_the_expert_downloads_the_original_eml_byte_for_byte_and_it_is_logged(client, expert, centre):
    client.force_login(expert)
    message = centre["invoice"]
    response = client.post(url("message-original", centre, code=message.code), {"action": "download"})
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert CODE.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    entry = LogEntry.objects.get(action=ACCESS, object_id=message.pk, additional_data__original=True)
    assert entry.additional_data["download"] == "eml"


@pytest.mark.parametrize("role", [Role.HANDLER, Role.OWNER, Role.CLIENT_MANAGER])
def test_only_the_expert_may_open_the_original(client, centre, role):
    user = person(centre, role, client="education", username="cc_other")
    client.force_login(user)
    address = url("message-original", centre, code=centre["invoice"].code)
    assert client.get(address).status_code == 403
    response = client.post(address, {"action": "show"})
    assert response.status_code == 403
    assert CODE not in response.content.decode()
    assert not LogEntry.objects.filter(additional_data__original=True).exists()


def test_a_manager_gets_404_for_another_departments_original_thread_and_attachment(client, manager, centre):
    with_file = archive(mail_samples.with_attachments(message_id="<liite@example.fi>"), centre["culture"])
    client.force_login(manager)
    for name, kwargs in [
        ("message-original", {"code": with_file.code}),
        ("message-thread", {"code": with_file.code}),
        ("message-attachment", {"code": with_file.code, "attachment": with_file.attachments.get().code}),
    ]:
        assert client.get(url(name, centre, **kwargs)).status_code == 404, name


# Attachments.


def test_an_attachment_is_served_as_a_download_with_its_detected_type_and_logged(client, expert, centre):
    message = archive(mail_samples.with_attachments(message_id="<pdf@example.fi>"), centre["education"])
    attachment = message.attachments.get()
    client.force_login(expert)
    response = client.get(url("message-attachment", centre, code=message.code, attachment=attachment.code))
    assert response.status_code == 200
    assert response.content == mail_samples.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="lomake.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = LogEntry.objects.get(action=ACCESS, object_id=message.pk, additional_data__attachment=str(attachment.code))
    assert entry.actor == expert


def test_an_active_attachment_goes_out_as_plain_bytes_with_an_rfc6266_name(client, expert, centre):
    page_bytes = b"<html><body><script>alert(1)</script></body></html>"
    raw = mail_samples.with_attachments(
        message_id="<html@example.fi>", attachments=[("lasku ä.pdf", "application", "pdf", page_bytes)]
    )
    message = archive(raw, centre["education"])
    attachment = message.attachments.get()
    assert attachment.content_type == "text/html"
    client.force_login(expert)
    response = client.get(url("message-attachment", centre, code=message.code, attachment=attachment.code))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''lasku%20%C3%A4.pdf"
    # The message page warns that the declared type is not what the content is.
    html = page(client, url("message-detail", centre, code=message.code))
    assert "its content is something else" in html


def test_an_attachment_of_another_message_is_404(client, expert, centre):
    first = archive(mail_samples.with_attachments(message_id="<a@example.fi>"), centre["education"])
    second = archive(mail_samples.plain(message_id="<b@example.fi>"), centre["education"])
    client.force_login(expert)
    address = url("message-attachment", centre, code=second.code, attachment=first.attachments.get().code)
    assert client.get(address).status_code == 404


# The message page.


def test_html_with_script_is_shown_sanitised_and_cannot_run(client, expert, centre):
    markup = '<p onclick="steal()">Hei <b>maailma</b><script>alert("x")</script><img src=x onerror=alert(1)></p>'
    message = archive(mail_samples.with_attachments(message_id="<h@example.fi>", html=markup), centre["education"])
    client.force_login(expert)
    response = client.get(url("message-detail", centre, code=message.code))
    html = response.content.decode()
    main = html.split("<main", 1)[1]
    assert "<b>maailma</b>" in main
    assert "<script>alert" not in main
    assert "onclick" not in main
    assert "onerror" not in main
    # The page's policy forbids inline script whatever the sanitiser missed.
    assert (
        "script-src 'self'" in response["Content-Security-Policy"]
        or "default-src 'self'" in response["Content-Security-Policy"]
    )
    assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src", 1)[-1].split(";")[0]


def test_an_unreadable_message_says_so_and_shows_no_body(client, expert, centre):
    message = archive(mail_samples.garbage(), centre["education"])
    assert message.unreadable
    client.force_login(expert)
    html = page(client, url("message-detail", centre, code=message.code))
    assert "could not be read" in html
    assert 'class="message-body"' not in html
    listing = page(client, url("message-list", centre) + "?unreadable=on")
    assert "unreadable" in listing
    assert "Päivähoitomaksu" not in listing


def test_the_thread_shows_the_conversation_within_the_users_scope(client, manager, expert, centre):
    question = archive(mail_samples.plain(subject="Kysymys", message_id="<q@example.fi>"), centre["education"])
    answer = archive(
        mail_samples.plain(subject="Vastaus", message_id="<r@example.fi>", in_reply_to="<q@example.fi>"),
        centre["education"],
        direction=OUTGOING,
    )
    # The same conversation key in another department's archive is not the same conversation.
    ContactCentreMessageFactory(ordering_client=centre["culture"], subject="Vieras", thread_key=question.thread_key)
    assert answer.thread_key == question.thread_key
    client.force_login(manager)
    html = page(client, url("message-detail", centre, code=answer.code))
    assert "Kysymys" in html
    assert "Vieras" not in html
    thread = page(client, url("message-thread", centre, code=question.code))
    assert "Vastaus" in thread
    assert "Vieras" not in thread
    client.force_login(expert)
    assert "Vieras" not in page(client, url("message-thread", centre, code=question.code))


# Filters, listing and export.


def test_the_list_filters_by_direction_and_date(client, expert, centre):
    ContactCentreMessageFactory(
        ordering_client=centre["education"], subject="Vanha vastaus", direction=OUTGOING, sent_at="2024-03-05T10:00Z"
    )
    client.force_login(expert)
    outgoing = page(client, url("message-list", centre) + "?direction=out")
    assert "Vanha vastaus" in outgoing
    assert "Päivähoitomaksu" not in outgoing
    dated = page(client, url("message-list", centre) + "?sent_from=2024-03-05&sent_to=2024-03-05")
    assert "Vanha vastaus" in dated
    assert "Päivähoitomaksu" not in dated
    assert "Vanha vastaus" not in page(client, url("message-list", centre) + "?sent_from=2024-03-06")


def test_a_mistyped_filter_gets_an_error_not_a_failure(client, expert, centre):
    client.force_login(expert)
    for query in ("sent_from=yesterday", "sent_to=0001-01-01", "direction=sideways", "ordering_client=nope", "page=x"):
        response = client.get(url("message-list", centre) + "?" + query)
        assert response.status_code == 200, query
        assert client.get(url("message-export", centre) + "?" + query).status_code == 200, query


def test_the_list_shows_attachment_counts_in_a_constant_number_of_queries(client, expert, centre):
    client.force_login(expert)
    client.get(url("message-list", centre))
    with CaptureQueriesContext(connection) as few:
        client.get(url("message-list", centre))
    for number in range(5):
        archive(mail_samples.with_attachments(message_id=f"<n{number}@example.fi>"), centre["education"])
    with CaptureQueriesContext(connection) as many:
        html = page(client, url("message-list", centre))
    assert len(many) == len(few)
    assert '<td class="num">1</td>' in html


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_csv_export_holds_the_filtered_scope_masked_and_formula_safe(client, manager, centre):
    ContactCentreMessageFactory(ordering_client=centre["education"], subject="=HYPERLINK(1)", sender="@evil")
    client.force_login(manager)
    response = client.get(url("message-export", centre))
    assert response["Content-Disposition"].startswith("attachment;")
    rows = read_csv(response)
    header, data = rows[0], rows[1:]
    assert header == [
        "Time",
        "Direction",
        "Ordering client",
        "From",
        "To",
        "Subject",
        "Attachments",
        "Could not be read",
    ]
    subjects = {row[5] for row in data}
    assert subjects == {"Päivähoitomaksu", "'=HYPERLINK(1)"}
    assert {row[3] for row in data} >= {"'@evil"}
    assert all(row[2] == "Kasvatuksen toimiala" for row in data)
    text = "\n".join(";".join(row) for row in rows)
    assert "väärin" not in text, "the body is never exported"
    entry = LogEntry.objects.get(action=ACCESS, additional_data__export="messages_csv")
    assert entry.actor == manager
    assert entry.additional_data["rows"] == 2


def test_the_csv_export_follows_the_lists_filters(client, expert, centre):
    client.force_login(expert)
    rows = read_csv(client.get(url("message-export", centre) + "?q=museo"))
    assert [row[5] for row in rows[1:]] == ["Museon aukiolo"]
    entry = LogEntry.objects.get(action=ACCESS, additional_data__export="messages_csv")
    assert entry.additional_data["filter"]["q"] == "museo"


def test_the_upload_link_is_shown_only_to_those_who_may_add_mail(client, expert, manager, centre):
    client.force_login(expert)
    assert "Upload mail" in page(client, url("message-list", centre))
    client.force_login(manager)
    assert "Upload mail" not in page(client, url("message-list", centre))


def test_the_message_page_links_the_original_only_for_the_expert(client, expert, handler, centre):
    address = url("message-detail", centre, code=centre["invoice"].code)
    original = url("message-original", centre, code=centre["invoice"].code)
    client.force_login(expert)
    assert original in page(client, address)
    client.force_login(handler)
    assert original not in page(client, address)


def test_a_long_list_counts_up_to_the_cap_and_says_there_are_more(client, expert, centre, monkeypatch):
    monkeypatch.setattr("crm.views.COUNT_CAP", 2)
    ContactCentreMessageFactory(ordering_client=centre["education"], subject="Kolmas")
    client.force_login(expert)
    html = page(client, url("message-list", centre))
    assert "More than 2 items" in html
    assert "3 items" not in html
