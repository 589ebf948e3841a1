"""The contact-centre expert uploads an .eml in a real browser, finds it by a word of its body, opens it and
downloads its attachment (issue 17)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.models import ContactCentreMessage
from registers.models import Role
from tests.archive import mail_samples

from ..conftest import grant
from ..factories import ContactCentreRegisterFactory, OrderingClientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_expert_uploads_an_eml_finds_it_opens_it_and_downloads_its_attachment(
    sign_in, live_server, page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    register = ContactCentreRegisterFactory(slug="palvelukeskus")
    OrderingClientFactory(register=register, department="Kulttuurin toimiala")
    client = OrderingClientFactory(register=register, department="Kasvatuksen toimiala")
    expert = UserFactory(username="cc_browser_expert")
    grant(expert, register, Role.CONTACT_CENTRE_EXPERT)
    raw = mail_samples.with_attachments(
        body="Liitteenä varhaiskasvatushakemus, kiitos.", message_id="<selain@example.fi>"
    )
    eml = tmp_path / "hakemus.eml"
    eml.write_bytes(raw)

    sign_in(expert)
    page.goto(f"{live_server.url}/crm/{register.slug}/messages/")
    # The archive's navigation offers the upload to those who may add mail.
    page.locator(f"nav.tabs a[href='/archive/{register.slug}/upload/']").click()
    page.wait_for_load_state()
    page.locator("#id_file").set_input_files(eml)
    page.locator("#id_ordering_client").select_option(label="Kasvatuksen toimiala")
    page.locator("#id_direction_0").check()
    page.locator("main form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    message = ContactCentreMessage.objects.get(internet_message_id="selain@example.fi")
    assert message.ordering_client == client

    # The list's search finds it by a word of its body (and only it).
    page.goto(f"{live_server.url}/crm/{register.slug}/messages/")
    page.locator("#id_q").fill("varhaiskasvatushakemus")
    page.locator("main form[role=search] button[type=submit]").click()
    page.wait_for_load_state()
    rows = page.locator("main table.data-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lomake liitteenä")
    expect(rows.first.locator("td.num")).to_have_text("1")

    rows.first.get_by_role("link", name="Lomake liitteenä").click()
    page.wait_for_load_state()
    expect(page.locator("main pre.message-body")).to_contain_text("varhaiskasvatushakemus")
    with page.expect_download() as download_info:
        page.locator("main ul.attachment-list a").first.click()
    download = download_info.value
    assert download.suggested_filename == "lomake.pdf"
    assert Path(download.path()).read_bytes() == mail_samples.PDF
