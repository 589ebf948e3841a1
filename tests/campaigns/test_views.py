"""The campaign pages: who gets what, a register that forbids marketing offers none, and the one-click objection."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from campaigns import sending, services
from campaigns.models import Campaign, CampaignRecipient
from privacy.rights.models import ObjectionRecord
from registers.models import Role
from tests.conftest import grant
from tests.factories import RegisterFactory, UserFactory

from .factories import campaign_draft, marketing_register, person, sender

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    return marketing_register(slug="markkinointi")


@pytest.fixture
def owner(register):
    user = UserFactory(username="owner_m")
    grant(user, register, Role.OWNER)
    return user


@pytest.fixture
def campaign(register, owner):
    person(register, email="anna@example.fi", language="sv")
    return campaign_draft(actor=owner, register=register)


def role_user(register, role, name):
    user = UserFactory(username=name)
    grant(user, register, role)
    return user


def urls(campaign):
    slug, code = campaign.register.slug, campaign.code
    return {
        "list": (reverse("campaigns:list", args=[slug]), False),
        "create": (reverse("campaigns:create", args=[slug]), True),
        "detail": (reverse("campaigns:detail", args=[slug, code]), False),
        "update": (reverse("campaigns:update", args=[slug, code]), True),
        "progress": (reverse("campaigns:progress", args=[slug, code]), False),
        "test-send": (reverse("campaigns:test-send", args=[slug, code]), True),
        "queue": (reverse("campaigns:queue", args=[slug, code]), True),
        "cancel": (reverse("campaigns:cancel", args=[slug, code]), True),
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.OWNER, 200), (Role.HANDLER, 200), (Role.STAFF, 403), (Role.CONTACT_CENTRE_EXPERT, 403), (None, 404)],
)
def test_each_role_gets_what_it_may(client, register, campaign, role, expected):
    user = role_user(register, role, "someone") if role else UserFactory(username="norole")
    client.force_login(user)
    for name, (url, has_post) in urls(campaign).items():
        # As the page's polling asks (the progress partial); the other pages answer it as any GET.
        response = client.get(url, HTTP_HX_REQUEST="true")
        if name in ("test-send", "queue", "cancel"):
            # POST-only: the method is refused before anything is read.
            assert response.status_code == 405, name
        else:
            assert response.status_code == expected, name
        if has_post:
            response = client.post(url, {})
            assert response.status_code in ((200, 302) if expected == 200 else (expected,)), name


def test_the_anonymous_are_sent_to_sign_in(client, campaign):
    for url, _has_post in urls(campaign).values():
        assert client.get(url).status_code == 302


def test_another_registers_campaign_is_404(client, campaign):
    other = marketing_register()
    client.force_login(sender(other, "other_sender"))
    detail = reverse("campaigns:detail", args=[other.slug, campaign.code])
    assert client.get(detail).status_code == 404
    assert client.post(reverse("campaigns:cancel", args=[other.slug, campaign.code])).status_code == 404


def test_a_register_that_forbids_marketing_offers_no_campaign(client):
    register = RegisterFactory(slug="ei-markkinointia", direct_marketing=False)
    owner = role_user(register, Role.OWNER, "owner_x")
    client.force_login(owner)
    assert client.get(reverse("campaigns:list", args=[register.slug])).status_code == 404
    assert client.get(reverse("campaigns:create", args=[register.slug])).status_code == 404
    page = client.get(reverse("crm:customer-list", args=[register.slug]))
    assert reverse("campaigns:list", args=[register.slug]) not in page.content.decode()


def test_the_customer_list_links_to_campaigns_for_their_senders_only(client, register, owner):
    link = reverse("campaigns:list", args=[register.slug])
    client.force_login(owner)
    assert link in client.get(reverse("crm:customer-list", args=[register.slug])).content.decode()
    client.force_login(role_user(register, Role.STAFF, "staff_m"))
    assert link not in client.get(reverse("crm:customer-list", args=[register.slug])).content.decode()


def test_the_detail_shows_who_is_left_out_and_why_before_sending(client, register, owner, campaign, settings):
    settings.LANGUAGE_CODE = "en"
    person(register, email="objects@example.fi", marketing_objection=True)
    person(register, email="")
    client.force_login(owner)
    with translation.override("en"):
        page = client.get(reverse("campaigns:detail", args=[register.slug, campaign.code]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["audience"].eligible == 1
    assert dict(page.context["exclusion_rows"])["objects to direct marketing"] == 1
    assert dict(page.context["exclusion_rows"])["no e-mail address"] == 1
    assert [preview["language"] for preview in page.context["previews"]] == ["fi", "sv", "en"]


def test_the_send_needs_confirmation_then_queues(client, register, owner, campaign, django_capture_on_commit_callbacks):
    client.force_login(owner)
    url = reverse("campaigns:queue", args=[register.slug, campaign.code])
    client.post(url, {})
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.DRAFT
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url, {"confirm": "on"})
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.QUEUED
    assert len(callbacks) == 1


def test_the_progress_partial_polls_while_sending(client, register, owner, campaign):
    services.campaign_queue(actor=owner, campaign=campaign)
    client.force_login(owner)
    url = reverse("campaigns:progress", args=[register.slug, campaign.code])
    page = client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in page.content.decode()
    assert page.context["progress"]["total"] == 1
    # Opened by itself (a bookmark, no JavaScript): the campaign's own page, which shows the same progress.
    assert client.get(url).url == reverse("campaigns:detail", args=[register.slug, campaign.code])


def test_create_saves_a_draft(client, register, owner):
    client.force_login(owner)
    response = client.post(
        reverse("campaigns:create", args=[register.slug]),
        {"name": "Kutsu", "audience": "persons", "subject_en": "Hi", "body_en": "Hello", "rate_per_minute": 60},
    )
    campaign = Campaign.objects.get(name="Kutsu")
    assert response.status_code == 302
    assert (campaign.state, campaign.created_by) == (Campaign.State.DRAFT, owner)


# The one-click objection.


@pytest.fixture
def recipient(register, owner, campaign):
    services.campaign_queue(actor=owner, campaign=campaign)
    return CampaignRecipient.objects.get(campaign=campaign)


def unsubscribe_url(recipient):
    return reverse("campaigns:unsubscribe", args=[sending.unsubscribe_token(recipient)])


def test_the_link_shows_a_button_and_changes_nothing_on_get(recipient):
    client = Client()
    page = client.get(unsubscribe_url(recipient))
    assert page.status_code == 200
    assert "<form" in page.content.decode()
    assert not ObjectionRecord.objects.exists()
    assert not recipient.customer.__class__.objects.get(pk=recipient.customer_id).marketing_objection


def test_the_one_click_post_needs_no_session_and_no_csrf_token(recipient):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        unsubscribe_url(recipient),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    record = ObjectionRecord.objects.get()
    assert record.channel == "unsubscribe"
    assert record.evidence["method"] == "rfc8058-post"
    assert record.evidence["recipient"] == recipient.token.hex
    assert record.evidence["campaign"] == str(recipient.campaign.code)
    # The answer is in the recipient's language (Swedish), whatever the browser asks for.
    assert response.context["done"]
    assert '<html lang="sv">' in response.content.decode()


def test_a_language_the_visitor_chose_on_the_site_wins_over_the_messages(recipient, settings):
    client = Client()
    assert '<html lang="sv">' in client.get(unsubscribe_url(recipient)).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="en">' in client.get(unsubscribe_url(recipient)).content.decode()


def test_the_pages_own_post_without_a_csrf_token_is_refused(recipient):
    client = Client(enforce_csrf_checks=True)
    assert client.post(unsubscribe_url(recipient), {}).status_code == 403
    assert not ObjectionRecord.objects.exists()


def test_the_pages_own_post_records_the_objection(recipient):
    client = Client(enforce_csrf_checks=True)
    url = unsubscribe_url(recipient)
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert response.context["done"]
    assert ObjectionRecord.objects.get().evidence["method"] == "page"


def test_a_tampered_token_is_404(recipient):
    token = sending.unsubscribe_token(recipient)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client = Client()
    assert client.get(reverse("campaigns:unsubscribe", args=[tampered])).status_code == 404
    assert client.post(reverse("campaigns:unsubscribe", args=[tampered]), {}).status_code == 404


def test_the_objection_takes_effect_in_every_register_and_the_next_queue_leaves_them_out(recipient, owner):
    organisation = recipient.campaign.register.organisation
    second = marketing_register(organisation=organisation)
    twin = person(second, email="Anna@Example.fi")
    second_owner = sender(second, "second_owner")

    Client().post(
        unsubscribe_url(recipient), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert set(ObjectionRecord.objects.values_list("register_id", flat=True)) == {
        recipient.campaign.register_id,
        second.pk,
    }
    twin.refresh_from_db()
    assert twin.marketing_objection
    later = campaign_draft(actor=second_owner, register=second)
    person(second, email="someone@example.fi")
    services.campaign_queue(actor=second_owner, campaign=later)
    assert list(later.recipients.values_list("email", flat=True)) == ["someone@example.fi"]
    assert Campaign.objects.get(pk=later.pk).exclusions["objection"] == 1


def test_a_main_user_without_a_role_in_the_register_gets_404(client, campaign, main_user):
    client.force_login(main_user)
    for name, (url, has_post) in urls(campaign).items():
        if has_post:
            assert client.post(url, {}).status_code == 404, name
        if name not in ("test-send", "queue", "cancel"):
            assert client.get(url).status_code == 404, name
