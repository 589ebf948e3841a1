"""The answer to an access request (GDPR art. 15): every register, the 15(1) items, processing dates,
other people's data withheld, electronic formats, and the expiring, logged download link."""

import datetime
import hashlib
import json
import uuid
import zoneinfo

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from privacy.requests import access_package, services, tokens
from privacy.requests.models import DataSubjectRequest, PackageDownload, Redaction, RequestEvent, ResponsePackage
from privacy.requests.workflow import request_transition
from registers.audit_chain import chained_update

from ...conftest import grant
from ...factories import (
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from .. import steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
State = DataSubjectRequest.State
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
# The art. 15(1) items (PRIVACY.md: all 8 sections) and the controller's identity.
SECTIONS = {
    "purposes",
    "data_categories",
    "recipients",
    "retention",
    "rights",
    "complaint",
    "sources",
    "automated_decisions",
}


def json_of(package: ResponsePackage) -> dict:
    return json.loads(text_of(package.json))


def text_of(field) -> str:
    field.open("rb")
    try:
        return field.read().decode()
    finally:
        field.close()


@pytest.fixture
def two_registers(register_a, handler_a, owner_a):
    register_c = RegisterFactory(organisation=register_a.organisation, name_fi="Toinen rekisteri")
    grant(handler_a, register_c, "handler")
    grant(owner_a, register_c, "owner")
    return register_a, register_c


def access_request(registers, handler, **kwargs):
    request, _created = services.request_submit(
        organisation=registers[0].organisation,
        registers=list(registers),
        all_registers=False,
        data={
            "kind": "access",
            "requester_name": kwargs.get("name", "Sanna Selvä"),
            "requester_email": kwargs.get("email", f"sanna.{uuid.uuid4().hex[:8]}@example.fi"),
            "language": kwargs.get("language", "fi"),
            "delivery": "electronic",
        },
    )
    request = services.request_confirm_email(request=request)
    request = services.request_verify_identity(request=request, actor=handler, method="known_email")
    return request_transition(request=request, to=State.IN_PROGRESS, actor=handler)


def test_the_package_covers_every_register_with_all_article_15_items(two_registers, handler_a, owner_a):
    register_a, register_c = two_registers
    mine_a = PersonCustomerFactory(register=register_a, first_name="Sanna", last_name="Selvä")
    mine_c = PersonCustomerFactory(register=register_c, first_name="Sanna", last_name="Selvä")
    request = access_request([register_a, register_c], handler_a)
    steps.checked(request, handler_a, register_a, [mine_a])
    steps.checked(request, handler_a, register_c, [mine_c])
    request = services.request_prepare(request=request, actor=handler_a)
    package = request.packages.get()
    content = json_of(package)
    assert {r["slug"] for r in content["registers"]} == {register_a.slug, register_c.slug}
    for register in content["registers"]:
        assert len(register["records"]) == 1
        keys = {section["key"] for section in register["description"]}
        assert keys >= SECTIONS, SECTIONS - keys
        purposes = next(s for s in register["description"] if s["key"] == "purposes")
        assert purposes["paragraphs"] == ["Asiakkuuksien hoito"]
    html = text_of(package.html)
    assert "Tietosuojavaltuutetun toimisto" in html
    assert register_a.organisation.name in html


def test_two_peoples_requests_in_one_register_each_answer_only_their_own_person(register_a, handler_a):
    sanna = PersonCustomerFactory(register=register_a, first_name="Sanna", last_name="Selvä", email="sanna@example.fi")
    InteractionFactory(customer=sanna, subject="Sannan asia", text="Sannan kahvila")
    ContactPersonFactory(customer=CustomerFactory(register=register_a), first_name="Sanna", last_name="Selvä")
    olli = PersonCustomerFactory(register=register_a, first_name="Olli", last_name="Outo", email="olli@example.fi")
    InteractionFactory(customer=olli, subject="Ollin asia", text="Ollin verstas")
    InvoiceFactory(customer=olli, number="INV-OLLI-1")
    hers = access_request([register_a], handler_a, name="Sanna Selvä", email="sanna@example.fi")
    his = access_request([register_a], handler_a, name="Olli Outo", email="olli@example.fi")
    steps.checked(hers, handler_a, register_a, [sanna])
    steps.checked(his, handler_a, register_a, [olli])
    for request, own, others in (
        (hers, ("Sannan kahvila", "sanna@example.fi"), ("Olli", "Outo", "Ollin", "olli@example.fi", "INV-OLLI-1")),
        (his, ("Ollin verstas", "INV-OLLI-1"), ("Sanna", "Selvä", "Sannan", "sanna@example.fi")),
    ):
        package = services.package_build(request=request, actor=handler_a)
        [register] = json_of(package)["registers"]
        assert len(register["records"]) == 1
        for fmt in (package.json, package.html):
            text = text_of(fmt)
            assert all(mine in text for mine in own)
            assert not [word for word in others if word in text], request.requester_name


def test_the_letter_is_in_the_requesters_language(register_a, handler_a):
    request = access_request([register_a], handler_a, language="sv")
    steps.checked(request, handler_a, register_a)
    package = services.package_build(request=request, actor=handler_a)
    html = text_of(package.html)
    assert '<html lang="sv">' in html
    assert json_of(package)["language"] == "sv"


def test_nothing_found_says_so(register_a, handler_a):
    request = access_request([register_a], handler_a)
    steps.checked(request, handler_a, register_a)
    package = services.package_build(request=request, actor=handler_a)
    assert json_of(package)["found"] is False
    assert package.record_count == 0


def test_records_interactions_and_invoices_are_included_without_staff_names(register_a, handler_a):
    staff = UserFactory(first_name="Salli", last_name="Sihteeri")
    person = PersonCustomerFactory(register=register_a, first_name="Sanna", last_name="Selvä", occupation="Muusikko")
    InteractionFactory(customer=person, subject="Kahvila-avustus", text="Haettu 500 €", staff_user=staff)
    other = PersonCustomerFactory(register=register_a, first_name="Outi", last_name="Muu")
    InteractionFactory(customer=other, subject="Toisen asia")
    request = access_request([register_a], handler_a)
    steps.checked(request, handler_a, register_a, [person])
    package = services.package_build(request=request, actor=handler_a)
    document = text_of(package.json)
    html = text_of(package.html)
    for text in (document, html):
        assert "Muusikko" in text
        assert "Kahvila-avustus" in text
        assert "Haettu 500 €" in text
        assert "Sihteeri" not in text
        assert "Toisen asia" not in text
        assert "Outi" not in text


def test_contact_persons_of_other_people_are_withheld_with_a_reason(register_a, handler_a):
    company = CustomerFactory(register=register_a, organisation_name="Rantakioski Oy", business_id="1572860-0")
    me = ContactPersonFactory(customer=company, first_name="Sanna", last_name="Selvä")
    colleague = ContactPersonFactory(customer=company, first_name="Kalle", last_name="Kollega", email="kalle@ranta.fi")
    InteractionFactory(customer=company, contact_person=me, subject="Minun palaverini")
    InteractionFactory(customer=company, contact_person=colleague, subject="Kallen palaveri")
    request = access_request([register_a], handler_a)
    steps.checked(request, handler_a, register_a, [company, me])
    package = services.package_build(request=request, actor=handler_a)
    for text in (text_of(package.json), text_of(package.html)):
        assert "Kollega" not in text
        assert "kalle@ranta.fi" not in text
        assert "Minun palaverini" in text
    reasons = set(Redaction.objects.filter(package=package).values_list("item", "reason"))
    assert (f"contact_person:{colleague.code}", "gdpr_15_4") in reasons
    assert any(item.endswith(":contact_person") for item, _reason in reasons)
    assert json_of(package)["redactions"]


def test_processing_dates_come_from_the_access_log_as_dates_only(register_a, handler_a):
    viewer = UserFactory(first_name="Ville", last_name="Katselija")
    person = PersonCustomerFactory(register=register_a)
    bystander = PersonCustomerFactory(register=register_a)
    for day, hour in ((datetime.date(2026, 3, 2), 9), (datetime.date(2026, 3, 2), 15), (datetime.date(2026, 4, 7), 23)):
        entry = LogEntry.objects.log_create(person, force_log=True, action=LogEntry.Action.ACCESS, actor=viewer)
        moment = datetime.datetime.combine(day, datetime.time(hour, 30), tzinfo=HELSINKI)
        chained_update(LogEntry.objects.filter(pk=entry.pk), timestamp=moment)
    other = LogEntry.objects.log_create(bystander, force_log=True, action=LogEntry.Action.ACCESS, actor=viewer)
    chained_update(LogEntry.objects.filter(pk=other.pk), timestamp=datetime.datetime(2026, 5, 5, 12, tzinfo=HELSINKI))
    request = access_request([register_a], handler_a)
    steps.checked(request, handler_a, register_a, [person])
    dates = json_of(services.package_build(request=request, actor=handler_a))["processing_dates"]
    # The creation of the row is a change, not a view; only ACCESS entries count.
    assert [d for d in dates if d < "2026-06-01"] == ["2026-03-02", "2026-04-07"]
    package = request.packages.get()
    html = text_of(package.html)
    # The letter shows the days in its language's format; the JSON keeps ISO dates.
    assert "7.4.2026" in html
    assert "2026-04-07" not in html
    assert "23:30" not in html
    assert "Katselija" not in html


def test_a_message_of_the_contact_centre_archive_is_part_of_the_answer(register_a, handler_a):
    archive = ContactCentreRegisterFactory(organisation=register_a.organisation)
    grant(handler_a, archive, "handler")
    message = ContactCentreMessageFactory(
        register=archive, ordering_client__register=archive, sender="sanna@example.fi"
    )
    request = access_request([archive], handler_a)
    steps.checked(request, handler_a, archive, [message])
    content = json_of(services.package_build(request=request, actor=handler_a))
    assert content["registers"][0]["records"][0]["type"] == "message"


def test_the_package_is_electronic_pdf_html_and_json_with_checksums(
    register_a, handler_a, owner_a, django_capture_on_commit_callbacks, celery_eager
):
    person = PersonCustomerFactory(register=register_a)
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.answered(register_a, handler_a, owner_a, records=[person])
    package = request.packages.get()
    with package.html.open("rb") as stored:
        assert package.file_sha256["html"] == hashlib.sha256(stored.read()).hexdigest()
    with package.pdf.open("rb") as stored:
        pdf = stored.read()
    with package.json.open("rb") as stored:
        document = stored.read()
    assert pdf.startswith(b"%PDF-")
    assert json.loads(document)["reference"] == request.reference
    assert package.sha256 == hashlib.sha256(document).hexdigest()
    assert package.file_sha256["pdf"] == hashlib.sha256(pdf).hexdigest()
    assert request.events.filter(action=RequestEvent.Action.PACKAGE_BUILT, payload__sha256=package.sha256).exists()


def test_html_in_the_records_stays_text_in_the_letter_and_the_pdf(register_a, handler_a):
    evil = '<script>alert(1)</script><a href="https://evil.example/x">click</a>'
    person = PersonCustomerFactory(register=register_a, extra_info=evil)
    InteractionFactory(customer=person, subject="<b>bold</b>", text=evil)
    request = access_request([register_a], handler_a)
    steps.checked(request, handler_a, register_a, [person])
    package = services.package_build(request=request, actor=handler_a)
    html = text_of(package.html)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://evil.example' not in html
    # A markup link would become a PDF link annotation; escaped text never does.
    control = access_package.render_pdf('<a href="https://evil.example/x">click</a>', compress=False)
    assert b"/URI" in control
    pdf = access_package.render_pdf(html, compress=False)
    assert b"evil.example" not in pdf
    assert b"/URI" not in pdf
    assert b"/JavaScript" not in pdf


def download_url(package, fmt=None) -> str:
    token = tokens.download_token_make(package)
    if fmt:
        return reverse("privacy:download-file", kwargs={"token": token, "fmt": fmt})
    return reverse("privacy:download", kwargs={"token": token})


def test_the_requester_gets_an_expiring_link_and_every_download_is_logged(
    public_client, register_a, handler_a, owner_a, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    person = PersonCustomerFactory(register=register_a)
    with django_capture_on_commit_callbacks(execute=True):
        request = steps.answered(register_a, handler_a, owner_a, records=[person])
    package = request.packages.get()
    assert package.expires_at - package.released_at == datetime.timedelta(days=14)
    letter = next(m for m in mailoutbox if "/privacy/request/answer/" in m.body)
    link = next(w for w in letter.body.split() if "/privacy/request/answer/" in w)
    landing = public_client.get("/" + link.split("/", 3)[3])
    assert landing.status_code == 200
    for fmt in ("pdf", "json", "html"):
        response = public_client.get(download_url(package, fmt))
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert "attachment" in response["Content-Disposition"]
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    package.refresh_from_db()
    assert package.download_count == 3
    assert list(PackageDownload.objects.values_list("fmt", "by_requester")) == [
        ("pdf", True),
        ("json", True),
        ("html", True),
    ]
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(package.pk))
    assert entries.count() == 3
    assert entries.first().additional_data["purpose"] == "access_request_answer"
    assert request.events.filter(action=RequestEvent.Action.PACKAGE_DOWNLOADED).count() == 3


def test_an_expired_link_no_longer_downloads(public_client, register_a, handler_a, owner_a):
    request = steps.answered(register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    ResponsePackage.objects.filter(pk=package.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert public_client.get(download_url(package)).status_code == 410
    assert public_client.get(download_url(package, "pdf")).status_code == 410
    assert PackageDownload.objects.count() == 0


def test_a_tampered_or_unreleased_link_downloads_nothing(public_client, register_a, handler_a):
    request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    # Built but not yet approved: the link does not work.
    assert public_client.get(download_url(package, "pdf")).status_code == 404
    token = tokens.download_token_make(package)
    bad = reverse("privacy:download-file", kwargs={"token": token[:-3] + "abc", "fmt": "pdf"})
    assert public_client.get(bad).status_code == 404
    assert PackageDownload.objects.count() == 0


def test_expired_package_files_are_deleted(register_a, handler_a, owner_a):
    request = steps.answered(register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    path = package.html.path
    ResponsePackage.objects.filter(pk=package.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    assert services.packages_expire() == 1
    package.refresh_from_db()
    assert package.files_deleted_at is not None
    assert not package.html
    import os

    assert not os.path.exists(path)


def test_an_in_person_answer_is_printed_by_staff_not_sent_by_link(register_a, handler_a, owner_a):
    request = services.request_intake(
        actor=handler_a,
        registers=[register_a],
        data={
            "kind": "access",
            "channel": "in_person",
            "requester_name": "Paula Paikalla",
            "identity_method": "in_person_id",
            "answer_now": True,
            "delivery": "in_person",
        },
    )
    steps.checked(request, handler_a, register_a)
    services.request_prepare(request=request, actor=handler_a)
    request = services.request_approve(request=request, actor=owner_a)
    package = request.packages.get()
    assert package.released_at is not None
    assert package.expires_at is None
    assert not request.correspondence.filter(kind="answer_ready").exists()


def test_the_pdf_is_made_after_commit_and_the_sweeper_catches_any_missed(public_client, register_a, handler_a, owner_a):
    from privacy.requests import tasks

    request = steps.answered(register_a, handler_a, owner_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    assert not package.pdf
    # Until it exists the download page says so and the PDF address finds nothing.
    page = public_client.get(download_url(package)).content.decode()
    assert "The PDF is still being made" in page
    assert public_client.get(download_url(package, "pdf")).status_code == 404
    assert tasks.package_pdf_sweep(older_than_seconds=0) == 1
    package.refresh_from_db()
    with package.pdf.open("rb") as stored:
        pdf = stored.read()
    assert pdf.startswith(b"%PDF-")
    assert package.file_sha256["pdf"] == hashlib.sha256(pdf).hexdigest()
    assert tasks.package_pdf_sweep(older_than_seconds=0) == 0
    assert public_client.get(download_url(package, "pdf")).status_code == 200


def test_a_pdf_is_never_made_from_a_letter_changed_on_disk(register_a, handler_a):
    from django.core.exceptions import ValidationError

    request = steps.in_review(register_a, handler_a, records=[PersonCustomerFactory(register=register_a)])
    package = request.packages.get()
    with open(package.html.path, "ab") as stored:
        stored.write(b"<p>added later</p>")
    with pytest.raises(ValidationError):
        services.package_pdf_render(package_id=package.pk)
    package.refresh_from_db()
    assert not package.pdf
