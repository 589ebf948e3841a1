import pytest

from registers import access_review as ar
from registers.models import AccessReview

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def decide(page, item, decision, reason=""):
    row = page.locator(f"#item-{item.code}")
    row.locator(f"input[name=decision][value={decision}]").check()
    row.locator("input[name=reason]").fill(reason)
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if decision == "revoke":
        # A revoke ends the access at once, so a confirmation page states that first.
        assert page.locator(".notice-danger").is_visible()
        page.locator("main form button.button-danger").click()
        page.wait_for_load_state()


def test_the_owner_revokes_a_user_in_the_yearly_review_and_the_user_is_refused(
    sign_in, live_server, page, owner_a, staff_a, register_a, main_user
):
    # The yearly schedule opens the campaign.
    (review,) = ar.access_reviews_open_due()
    staff_item = review.items.get(user=staff_a)
    owner_item = review.items.get(user=owner_a)
    # Nobody decides on their own access: the main user keeps the owner's.
    ar.access_review_item_decide(item=owner_item, decision="keep", reason="", actor=main_user)

    sign_in(owner_a)
    page.locator(f"a[href='{review.get_absolute_url()}']").click()
    page.wait_for_load_state()
    assert page.locator(f"#item-{staff_item.code}").is_visible()

    assert page.locator(f"#item-{owner_item.code} input[name=decision]").count() == 0
    decide(page, staff_item, "revoke", "Siirtyi toiseen tehtävään")
    page.locator("form[action$='/complete/'] button").click()
    page.wait_for_load_state()

    review.refresh_from_db()
    assert review.status == AccessReview.Status.COMPLETED
    assert page.locator(f"#item-{staff_item.code}").get_by_text("Siirtyi toiseen tehtävään").is_visible()
    with page.expect_download() as download:
        page.locator("a[href$='evidence.pdf']").first.click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.locator("form[action='/accounts/logout/'] button").click()
    page.wait_for_load_state()
    sign_in(staff_a)
    assert page.get_by_role("link", name=register_a.name_fi).count() == 0
    response = page.goto(f"{live_server.url}/crm/{register_a.slug}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}{review.get_absolute_url()}")
    assert response.status == 404
