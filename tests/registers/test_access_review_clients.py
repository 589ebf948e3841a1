"""Integration clients in the yearly access review: shown as clients (name, responsible person, scope, expiry,
last use), not as people, and a revoke in the review ends the client's scope in that register only."""

import html as html_lib
import re

import pytest
from django.utils import timezone, translation

from api.services import api_client_scopes, api_client_touch
from registers import access_review as ar
from registers.models import AccessReviewItem, Role

from ..api.factories import READ, WRITE, KeyClient, api_client
from ..factories import UserFactory
from .test_access_review_pdf import pdf_source, text_of  # noqa: F401 (pytest fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(register_a, register_b):
    responsible = UserFactory(username="iida", first_name="Iida", last_name="Integraattori")
    client, key = api_client({register_a: WRITE, register_b: READ}, name="Tapahtumakalenteri")
    client.owner = responsible
    client.save()
    api_client_touch(client)
    return client, key


@pytest.fixture
def review(register_a, owner_a, integration):
    return ar.access_review_open(register=register_a, actor=owner_a)


def page_text(response) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_review_lists_the_client_as_a_client_with_its_facts(client, owner_a, integration, review):
    machine = integration[0]
    item = review.items.get(user=machine.user)
    snapshot = item.roles[0]
    assert snapshot["role"] == Role.API_WRITE
    assert snapshot["client"]["name"] == "Tapahtumakalenteri"
    assert snapshot["client"]["owner"] == "Iida Integraattori"
    assert snapshot["client"]["expires_on"] == machine.expires_on.isoformat()

    client.force_login(owner_a)
    with translation.override("en"):
        text = page_text(client.get(review.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Tapahtumakalenteri integration client" in text
    assert "Responsible person: Iida Integraattori (iida)" in text
    assert f"Key expires: {machine.expires_on.isoformat()}" in text
    assert f"Last used: {timezone.localdate().isoformat()}T" in text
    # A person is still shown as a person.
    assert "owner_a" in text


def test_a_revoke_in_the_review_ends_the_clients_scope_in_this_register_only(
    client, owner_a, integration, review, register_a, register_b
):
    machine, key = integration
    assert KeyClient(key).get(f"/api/v1/registers/{register_a.slug}/").status_code == 200
    item = review.items.get(user=machine.user)
    client.force_login(owner_a)

    response = client.post(
        f"{review.get_absolute_url()}items/{item.code}/decide/",
        {"decision": "revoke", "reason": "Integraatio ei enää käytössä", "confirmed": "on"},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == AccessReviewItem.Decision.REVOKE
    assert {m.register for m in api_client_scopes(machine).values()} == {register_b}
    caller = KeyClient(key)
    assert caller.get(f"/api/v1/registers/{register_a.slug}/").status_code == 404
    assert caller.get(f"/api/v1/registers/{register_b.slug}/").status_code == 200
    assert caller.get("/api/v1/me/").json()["scopes"] == {register_b.slug: READ}
    # The decided item keeps the client in its evidence.
    assert item.roles[0]["client"]["name"] == "Tapahtumakalenteri"


def test_the_pdf_evidence_names_the_client_and_its_responsible_person(
    client,
    owner_a,
    main_user,
    integration,
    review,
    pdf_source,  # noqa: F811
):
    for item in review.items.all():
        decider = main_user if item.user_id == owner_a.pk else owner_a
        ar.access_review_item_decide(item=item, decision="keep", reason="", actor=decider)
    ar.access_review_complete(review=review, actor=owner_a)
    client.force_login(owner_a)
    with translation.override("en"):
        response = client.get(f"{review.get_absolute_url()}evidence.pdf", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = text_of(pdf_source[0])
    assert "Tapahtumakalenteri (integration client)" in text
    assert "Responsible person: Iida Integraattori (iida)" in text


def test_the_facts_of_clients_and_people_still_take_four_queries(
    register_a, owner_a, integration, django_assert_num_queries
):
    users = [integration[0].user.pk, owner_a.pk]
    with django_assert_num_queries(4):
        facts = ar.user_access_facts(register=register_a, user_ids=users)
    assert facts[owner_a.pk]["client"] is None
    assert facts[integration[0].user.pk]["client"]["owner_username"] == "iida"
