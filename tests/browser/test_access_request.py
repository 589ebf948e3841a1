"""A person asks in Swedish what data is kept about them; a handler and an owner answer; the person downloads it."""

import re

import pytest
from django.core import mail

from config.celery import app as celery_app
from privacy.requests.models import DataSubjectRequest, PackageDownload

from ..factories import InteractionFactory, PersonCustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_mail(settings, live_server, tmp_path):
    # The live server runs in this process: letters sent by tasks run in-process land in mail.outbox.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    mail.outbox = []
    yield mail.outbox
    celery_app.conf.task_always_eager = previous


def link_in(message, fragment: str) -> str:
    return next(url for url in re.findall(r"https?://\S+", message.body) if fragment in url)


def test_a_person_files_in_swedish_and_downloads_the_approved_answer(
    page, live_server, sign_in, eager_mail, register_a, handler_a, owner_a
):
    person = PersonCustomerFactory(
        register=register_a, first_name="Sara", last_name="Svensson", email="sara.svensson@example.se"
    )
    InteractionFactory(customer=person, subject="Mässbesök", text="Intresserad av turistguider")

    # The person opens the public form and switches it to Swedish.
    page.goto(f"{live_server.url}/privacy/request/{register_a.organisation.code}/")
    page.locator("#language-select").select_option("sv")
    page.locator("form.language-form button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "Begäran om dataskydd"

    page.locator("input[name=kind][value=access]").check()
    page.locator(f"input[name=registers][value={register_a.slug}]").check()
    page.get_by_label("Ditt namn").fill("Sara Svensson")
    page.get_by_label("E-postadress").fill("sara.svensson@example.se")
    page.locator("#id_language").select_option("sv")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    request = DataSubjectRequest.objects.get()
    # The browser is told to check the e-mail; the request's links travel only by e-mail.
    assert page.url.endswith("/privacy/request/sent/")
    assert request.reference not in page.content()
    assert request.state == DataSubjectRequest.State.RECEIVED

    # The confirmation link from the e-mail puts the request in the queue.
    [confirmation] = eager_mail
    page.goto(link_in(confirmation, "/confirm/"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    request.refresh_from_db()
    assert request.state == DataSubjectRequest.State.VERIFYING

    # A handler identifies the person, finds the record and prepares the answer.
    page.context.clear_cookies()
    sign_in(handler_a)
    detail = f"{live_server.url}/privacy/requests/{request.code}/"
    page.goto(detail)
    page.locator("select[name=method]").select_option("known_email")
    page.locator(f"form[action='/privacy/requests/{request.code}/verify/'] button").click()
    page.wait_for_load_state()
    page.locator("form[action$='/move/']:has(input[value=in_progress]) button").click()
    page.wait_for_load_state()
    page.goto(f"{detail}search/")
    page.locator(f"input[value='customer:{person.code}']").check()
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(detail)
    page.locator(f"form[action='/privacy/requests/{request.code}/prepare/'] button").click()
    page.wait_for_load_state()
    request.refresh_from_db()
    assert request.state == DataSubjectRequest.State.REVIEW
    page.locator("form[action='/accounts/logout/'] button").click()
    page.wait_for_load_state()

    # The owner approves; the handler could not have.
    page.context.clear_cookies()
    sign_in(owner_a)
    page.goto(detail)
    page.locator(f"form[action='/privacy/requests/{request.code}/approve/'] button").click()
    page.wait_for_load_state()
    request.refresh_from_db()
    assert request.state == DataSubjectRequest.State.RESPONDED
    assert (request.prepared_by, request.approved_by) == (handler_a, owner_a)
    page.locator("form[action='/accounts/logout/'] button").click()
    page.wait_for_load_state()

    # The person downloads the answer through the link in the e-mail.
    page.context.clear_cookies()
    answer_mail = next(m for m in eager_mail if "/answer/" in m.body)
    assert answer_mail.to == ["sara.svensson@example.se"]
    page.goto(link_in(answer_mail, "/answer/"))
    with page.expect_download() as download_info:
        page.locator("main a[href$='/pdf/']").click()
    path = download_info.value.path()
    with open(path, "rb") as downloaded:
        assert downloaded.read(5) == b"%PDF-"
    download = PackageDownload.objects.get()
    assert (download.fmt, download.by_requester) == ("pdf", True)
    package = request.packages.get()
    with package.json.open("rb") as stored:
        document = stored.read().decode()
    assert "Mässbesök" in document
    assert '"language": "sv"' in document
