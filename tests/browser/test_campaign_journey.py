"""A handler's day in Finnish, in a real browser (issue 18): a segment by tag and language, follow-ups for all of it,
a campaign to a real SMTP sink, and a recipient who follows the objection link of the message they received and is
gone from the segment's next send and its labels.
"""

import csv
import datetime
import email
import email.policy
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import audience as campaign_audience
from campaigns.models import Campaign
from crm.models import Customer, CustomerTag, SavedView, Tag
from followups.models import FollowUp
from registers.models import CustomerField

from ..campaigns.conftest import smtp_sink  # noqa: F401 - the campaign goes to a real SMTP server
from ..factories import PersonCustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEGMENT = "Messuvieraat, suomeksi"


@pytest.fixture
def fair(register_a):
    """Visitors of a fair in register A: three Finnish speakers, one Swedish speaker, and one without the tag."""
    register_a.direct_marketing = True
    wanted = {CustomerField.EMAIL, CustomerField.LANGUAGE, CustomerField.ADDRESS}
    register_a.collected_fields = sorted({*register_a.collected_fields, *wanted})
    register_a.save()
    tag = Tag.objects.create(register=register_a, name="Messut 2027")
    people = {}
    for first, last, language in [
        ("Anna", "Aaltonen", "fi"),
        ("Bertta", "Berg", "fi"),
        ("Cecilia", "Carlsson", "fi"),
        ("Dag", "Dahl", "sv"),
    ]:
        people[first] = PersonCustomerFactory(
            register=register_a,
            first_name=first,
            last_name=last,
            language=language,
            email=f"{first.lower()}@example.fi",
            street_address="Messukeskus 1",
            postal_code="00520",
            city="Helsinki",
        )
        CustomerTag.objects.create(tag=tag, customer=people[first])
    PersonCustomerFactory(register=register_a, first_name="Eino", last_name="Ei", language="fi", email="e@example.fi")
    return tag, people


def _labels(page, base_url, register, view) -> list[str]:
    response = page.request.get(f"{base_url}/crm/{register.slug}/labels.csv?view={view.code}")
    assert response.ok
    rows = list(csv.reader(io.StringIO(response.text().lstrip("\ufeff")), delimiter=";"))
    return [row[0] for row in rows[1:]]


def test_segment_follow_ups_campaign_and_the_objection_link(
    live_server,
    sign_in,
    page,
    register_a,
    handler_a,
    fair,
    smtp_sink,  # noqa: F811 - the fixture imported above
    settings,
    celery_eager,
):
    tag, people = fair
    settings.SITE_URL = live_server.url
    settings.DEFAULT_FROM_EMAIL = "elinkeinopalvelut@example.fi"
    page.set_default_timeout(15_000)
    sign_in(handler_a)
    page.goto(f"{live_server.url}/crm/{register_a.slug}/")
    expect(page.locator("html")).to_have_attribute("lang", "fi")

    # The segment: the tag and the language, then saved under a name and shared with the register.
    page.select_option("#id_tag", str(tag.code))
    page.select_option("#id_language", "fi")
    page.locator("form.filter-form button[type=submit]").click()
    results = page.locator("#customer-results")
    expect(results).to_contain_text("Aaltonen")
    expect(results).not_to_contain_text("Dahl")
    expect(results).not_to_contain_text("Eino")
    page.locator("details.save-view summary").click()
    page.fill("#id_view_name", SEGMENT)
    page.check("#id_view_shared")
    page.locator("#save-view-form button[type=submit]").click()
    page.wait_for_load_state()
    view = SavedView.objects.get(name=SEGMENT)
    assert view.shared
    assert view.register == register_a

    # Follow-ups for the whole segment at once.
    page.goto(f"{live_server.url}/crm/{register_a.slug}/?view={view.code}")
    expect(page.locator("#customer-results")).to_contain_text("Carlsson")
    page.check("#id_all_matching")
    page.select_option("#id_bulk_action", "followup_assign")
    page.select_option("#id_bulk_assignee", str(handler_a.pk))
    due = timezone.localdate() + datetime.timedelta(days=3)
    page.fill("#id_bulk_due_on", due.isoformat())
    page.fill("#id_bulk_note", "Kiitä messukäynnistä")
    page.locator("#bulk-form button[type=submit]").click()
    page.wait_for_load_state()
    followups = FollowUp.objects.filter(assignee=handler_a, due_on=due, note="Kiitä messukäynnistä")
    assert sorted(followups.values_list("customer__last_name", flat=True)) == ["Aaltonen", "Berg", "Carlsson"]
    page.goto(live_server.url + "/")
    expect(page.locator("main")).to_contain_text("Kiitä messukäynnistä")

    # The campaign to the segment, in Finnish, through the real SMTP sink.
    page.goto(f"{live_server.url}/campaigns/{register_a.slug}/new/")
    page.fill("#id_name", "Kiitos messuista")
    page.select_option("#id_segment", str(view.code))
    page.select_option("#id_audience", Campaign.Audience.PERSONS)
    page.fill("#id_subject_fi", "Kiitos käynnistä messuosastollamme")
    page.fill("#id_body_fi", "Hei,\n\nkiitos käynnistä. Tervetuloa ensi vuonna uudelleen!")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    campaign = Campaign.objects.get(name="Kiitos messuista")
    expect(page.locator("#audience-eligible")).to_contain_text("3")
    page.check("#id_confirm")
    page.locator("main form[action$='/send/'] button[type=submit]").click()
    page.wait_for_load_state()
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENT
    assert sorted(address for message in smtp_sink.messages for address in message["to"]) == [
        "anna@example.fi",
        "bertta@example.fi",
        "cecilia@example.fi",
    ]

    # Anna opens the message she received and follows its objection link: no sign-in needed.
    received = email.message_from_bytes(smtp_sink.to("anna@example.fi")[0]["data"], policy=email.policy.default)
    assert received["Subject"] == "Kiitos käynnistä messuosastollamme"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = received.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/campaigns/u/\S+/", body).group(0)
    assert link in received["List-Unsubscribe"]
    anonymous = page.context.browser.new_context(locale="fi-FI")
    visitor = anonymous.new_page()
    visitor.goto(link)
    expect(visitor.locator("html")).to_have_attribute("lang", "fi")
    visitor.locator("main form button[type=submit]").click()
    visitor.wait_for_load_state()
    anonymous.close()
    assert Customer.objects.get(pk=people["Anna"].pk).marketing_objection

    # The segment's next send leaves her out, says why, and so do its labels.
    plan = campaign_audience.audience_count(
        user=handler_a, campaign=Campaign(register=register_a, segment=view, audience=Campaign.Audience.PERSONS)
    )
    assert plan.eligible == 2
    assert plan.exclusions["objection"] == 1
    assert "Anna Aaltonen" not in _labels(page, live_server.url, register_a, view)
    assert "Bertta Berg" in _labels(page, live_server.url, register_a, view)
