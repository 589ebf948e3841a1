"""A handler imports a Swedish-headed Excel file in a real browser: upload, a fixed column, the preview's
errors, the progress bar to the end, and the undo that takes the customers away again."""

import pytest
from django.urls import reverse
from openpyxl import Workbook
from playwright.sync_api import expect

from crm.models import Customer
from imports.models import ImportBatch

from ..imports.helpers import business_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _tasks_in_process(celery_eager):
    """The preview and the commit run in the live server's thread, with Redis configured (CI) as without it."""


def swedish_workbook(path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Företagets namn", "FO-nummer", "E-post", "Kommun"])
    sheet.append(["Skärgårdens Båt Ab", business_id(1), "info@batab.example.fi", "Helsingfors"])
    sheet.append(["Norrsken Kaffe Ab", business_id(2), "kaffe@norrsken.example.fi", "Borgå"])
    sheet.append(["Fel Adress Ab", business_id(3), "inte-en-adress", "Åbo"])
    book.save(path)
    return path


def test_a_handler_imports_an_excel_file_and_undoes_it(
    sign_in, live_server, page, handler_a, register_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    workbook = swedish_workbook(tmp_path / "kunder.xlsx")

    sign_in(handler_a)
    page.goto(f"{live_server.url}/imports/{register_a.slug}/")
    page.locator("#id_file").set_input_files(workbook)
    page.locator("main form[enctype] button[type=submit]").click()
    page.wait_for_load_state()

    # The mapping page: the headers are recognised, except the town column, which the handler sets by hand.
    expect(page.locator("#id_column_0")).to_have_value("organisation_name")
    expect(page.locator("#id_column_1")).to_have_value("business_id")
    expect(page.locator("#id_column_2")).to_have_value("email")
    expect(page.locator("main")).to_contain_text("Helsingfors")  # the first values beside the columns
    expect(page.locator("#id_column_3")).to_have_value("")
    page.locator("#id_column_3").select_option("city")
    page.locator("#id_match_mode_0").check()
    page.locator("main form.form-card button[type=submit]").click()
    page.wait_for_load_state()

    # The preview: two new customers, one row refused with its row and column named.
    expect(page.locator("#preview-counts")).to_contain_text("2")
    expect(page.locator("#preview-errors")).to_contain_text("E-post")
    expect(page.locator("#preview-errors")).to_contain_text("4")
    assert Customer.objects.filter(register=register_a).count() == 0
    page.locator("form[action$='/start/'] button").click()
    page.wait_for_load_state()

    # The progress bar reaches the end (the task runs eagerly once the request commits).
    expect(page.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator("#batch-progress[hx-get]")).to_have_count(0)  # polling has stopped
    batch = ImportBatch.objects.get(register=register_a)
    assert batch.state == ImportBatch.State.DONE
    assert sorted(Customer.objects.filter(register=register_a).values_list("city", flat=True)) == [
        "Borgå",
        "Helsingfors",
    ]

    # Undo: a confirmation page, then the customers are gone.
    page.locator(f"a[href$='/{batch.code}/undo/']").first.click()
    page.wait_for_load_state()
    page.locator("main form button.button-danger").click()
    page.wait_for_load_state()
    expect(page.locator("#undo-result")).to_contain_text("2")
    assert Customer.objects.filter(register=register_a).count() == 0
    page.goto(live_server.url + reverse("crm:customer-list", kwargs={"register": register_a.slug}))
    expect(page.locator("main")).not_to_contain_text("Skärgårdens Båt Ab")
