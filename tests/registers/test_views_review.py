import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext

from registers import access_review as ar
from registers.models import AccessReview, AccessReviewItem, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(register_a, owner_a, staff_a):
    return ar.access_review_open(register=register_a, actor=owner_a)


def decide_url(review, item):
    return f"{review.get_absolute_url()}items/{item.code}/decide/"


def test_the_owner_sees_the_open_review_with_its_facts(client, owner_a, review):
    client.force_login(owner_a)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "staff_a" in page
    assert "grantor" in page


def test_the_owner_decides_and_completes_through_the_screens(client, owner_a, staff_a, review, register_a, main_user):
    client.force_login(owner_a)
    staff_item = review.items.get(user=staff_a)
    owner_item = review.items.get(user=owner_a)
    response = client.post(decide_url(review, staff_item), {"decision": "revoke", "reason": ""})
    assert response.status_code == 302
    staff_item.refresh_from_db()
    assert staff_item.decision == AccessReviewItem.Decision.PENDING
    client.post(decide_url(review, staff_item), {"decision": "revoke", "reason": "Ei tarvetta", "confirmed": "on"})
    ar.access_review_item_decide(item=owner_item, decision="keep", reason="", actor=main_user)
    response = client.post(f"{review.get_absolute_url()}complete/", follow=True)
    with translation.override("fi"):
        assert gettext("The access review is complete.") in response.content.decode()
    review.refresh_from_db()
    assert review.status == AccessReview.Status.COMPLETED
    staff_a = get_user_model().objects.get(pk=staff_a.pk)
    assert client.get(f"/crm/{register_a.slug}/").status_code == 200
    client.force_login(staff_a)
    assert client.get(f"/crm/{register_a.slug}/").status_code == 404


def test_a_completed_review_downloads_as_pdf(client, owner_a, review, main_user):
    client.force_login(owner_a)
    assert client.get(f"{review.get_absolute_url()}evidence.pdf").status_code == 404
    for item in review.items.all():
        decider = main_user if item.user_id == owner_a.pk else owner_a
        ar.access_review_item_decide(item=item, decision="keep", reason="", actor=decider)
    ar.access_review_complete(review=review, actor=owner_a)
    response = client.get(f"{review.get_absolute_url()}evidence.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_owner_opens_a_review_by_hand(client, owner_a, register_a):
    client.force_login(owner_a)
    response = client.post(f"/registers/{register_a.slug}/reviews/open/")
    assert response.status_code == 302
    assert AccessReview.objects.open().filter(register=register_a, opened_by=owner_a).exists()
    response = client.post(f"/registers/{register_a.slug}/reviews/open/", follow=True)
    assert AccessReview.objects.filter(register=register_a).count() == 1


def test_an_overdue_review_is_flagged_on_the_owners_front_page(client, owner_a, review):
    client.force_login(owner_a)
    assert "badge-danger" not in client.get("/").content.decode()
    AccessReview.objects.filter(pk=review.pk).update(due_at=review.opened_at)
    page = client.get("/").content.decode()
    assert review.get_absolute_url() in page
    assert "badge-danger" in page


def test_an_overdue_review_is_flagged_in_the_admin(admin_client, review):
    AccessReview.objects.filter(pk=review.pk).update(due_at=review.opened_at)
    response = admin_client.get("/admin/registers/accessreview/?overdue=yes")
    assert response.status_code == 200
    assert review.register.name_fi in response.content.decode()


def test_an_owner_deciding_on_their_own_access_is_told_why_on_the_page(client, owner_a, review):
    client.force_login(owner_a)
    item = review.items.get(user=owner_a)
    page = client.get(review.get_absolute_url()).content.decode()
    assert decide_url(review, item) not in page
    response = client.post(decide_url(review, item), {"decision": "keep"}, follow=True, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 200
    with translation.override("sv"):
        assert gettext(ar.ERROR_SELF_DECIDE) in response.content.decode()
    item.refresh_from_db()
    assert item.decision == AccessReviewItem.Decision.PENDING


def test_a_main_user_decides_on_the_owners_own_access_on_the_page(client, main_user, owner_a, review):
    client.force_login(main_user)
    item = review.items.get(user=owner_a)
    assert decide_url(review, item) in client.get(review.get_absolute_url()).content.decode()
    assert client.post(decide_url(review, item), {"decision": "keep"}).status_code == 302
    item.refresh_from_db()
    assert (item.decision, item.decided_by) == (AccessReviewItem.Decision.KEEP, main_user)


def test_a_review_of_another_register_is_not_found_under_this_one(client, owner_a, register_b, review):
    other = ar.access_review_open(register=register_b)
    client.force_login(owner_a)
    url = f"/registers/{review.register.slug}/reviews/{other.code}/"
    assert client.get(url).status_code == 404


def test_a_main_user_sees_the_overdue_count_linking_to_the_admin(client, main_user, review):
    AccessReview.objects.filter(pk=review.pk).update(due_at=review.opened_at)
    client.force_login(main_user)
    page = client.get("/").content.decode()
    assert "/admin/registers/accessreview/?overdue=yes" in page


def test_revoking_asks_for_a_confirmation_that_states_the_consequence(client, owner_a, staff_a, review, register_a):
    staff_a.first_name, staff_a.last_name = "Tuulikki", "Becker"
    staff_a.save()
    item = review.items.get(user=staff_a)
    client.force_login(owner_a)
    response = client.post(
        decide_url(review, item), {"decision": "revoke", "reason": "Siirtyi muualle"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    # The first click only asks: nothing has changed yet.
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Tuulikki Becker loses access to {register_a.name_en} at once." in page
    assert "Siirtyi muualle" in page
    assert "staff user" in page  # The role that ends.
    assert f'href="{review.get_absolute_url()}#item-{item.code}"' in page  # A way back without revoking.
    item.refresh_from_db()
    assert item.decision == AccessReviewItem.Decision.PENDING
    assert Membership.objects.active().filter(user=staff_a, register=register_a).exists()

    # The confirmation page's own form, as posted by its button, revokes.
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    assert hidden["confirmed"]
    assert (hidden["decision"], hidden["reason"]) == ("revoke", "Siirtyi muualle")
    action = re.search(r'<form method="post" action="([^"]+)"', page)[1]
    response = client.post(action, hidden)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.decision, item.reason) == (AccessReviewItem.Decision.REVOKE, "Siirtyi muualle")
    assert not Membership.objects.active().filter(user=staff_a, register=register_a).exists()


def test_a_revoke_without_a_reason_is_refused_before_any_confirmation(client, owner_a, staff_a, review):
    item = review.items.get(user=staff_a)
    client.force_login(owner_a)
    response = client.post(decide_url(review, item), {"decision": "revoke", "reason": " "}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert str(ar.ERROR_REASON_FOR_REVOKE) in page
    item.refresh_from_db()
    assert item.decision == AccessReviewItem.Decision.PENDING


def test_keeping_a_users_access_needs_no_confirmation(client, owner_a, staff_a, review):
    item = review.items.get(user=staff_a)
    client.force_login(owner_a)
    assert client.post(decide_url(review, item), {"decision": "keep"}).status_code == 302
    item.refresh_from_db()
    assert item.decision == AccessReviewItem.Decision.KEEP


def test_a_decided_users_roles_show_in_the_readers_language(client, owner_a, staff_a, review):
    item = review.items.get(user=staff_a)
    # The decision snapshots the roles while the owner works in English.
    with translation.override("en"):
        ar.access_review_item_decide(item=item, decision="keep", reason="", actor=owner_a)
    client.force_login(owner_a)
    page = client.get(review.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    row = re.search(rf'<tr id="item-{item.code}">(.*?)</tr>', page, flags=re.S)[1]
    with translation.override("sv"):
        assert gettext("staff user") in row
    assert "staff user" not in row
    assert f"{item.roles[0]['granted_on']}" not in row  # The date as a date, not in ISO.
