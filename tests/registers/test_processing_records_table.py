"""The record of processing activities (GDPR art. 30) as a readable table and a PDF, for owners and main users."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/registers/records-of-processing/"
PDF = "/registers/records-of-processing.pdf"


@pytest.fixture
def described_a(register_a):
    register_a.dpo_contact_fi = "Tietosuojavastaava, tietosuoja@example.fi"
    register_a.retention_text_fi = "Tiedot poistetaan kolmen vuoden käyttämättömyyden jälkeen."
    register_a.save()
    return register_a


def test_the_owner_reads_the_record_as_a_table(client, described_a, register_b, owner_a):
    client.force_login(owner_a)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<table class="data-table">' in page
    for point, item in (
        ("30(1)(a)", "Data protection officer"),
        ("30(1)(b)", "Purposes of processing"),
        ("30(1)(c)", "Categories of personal data"),
        ("30(1)(d)", "Recipients"),
        ("30(1)(e)", "Transfers outside the EU/EEA"),
        ("30(1)(f)", "Time limits for erasure"),
        ("30(1)(g)", "Technical and organisational security measures"),
    ):
        assert f'<td class="nowrap">{point}</td>' in page
        assert f'<th scope="row">{item}</th>' in page
    assert "Tietosuojavastaava, tietosuoja@example.fi" in page
    assert "Deleted after 36 months without activity." in page
    assert "(Only available in Finnish)" in page
    assert described_a.name_en in page
    assert register_b.name_en not in page
    assert 'href="/registers/records-of-processing.pdf"' in page
    assert 'href="/registers/records-of-processing.json"' in page


def test_the_record_is_a_pdf(client, described_a, owner_a):
    client.force_login(owner_a)
    response = client.get(PDF, HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith('attachment; filename="records-of-processing-')


def test_a_main_user_reads_every_register(client, register_a, register_b, main_user):
    client.force_login(main_user)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert register_a.name_en in page
    assert register_b.name_en in page


@pytest.mark.parametrize("url", [URL, PDF])
def test_staff_without_an_owner_role_gets_404(client, register_a, staff_b, url):
    client.force_login(staff_b)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [URL, PDF])
def test_anonymous_goes_to_login(client, register_a, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
