"""Tag pages, the customer page's tag panel and saved views, as each role meets them."""

import csv
import io

import pytest
from django.urls import reverse

from crm.models import CustomerTag, SavedView, Tag

from ..factories import CustomerFactory, UserFactory
from .factories import SavedViewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def tags_url(register):
    return reverse("segments:tag-list", kwargs={"register": register.slug})


def list_url(register):
    return reverse("crm:customer-list", kwargs={"register": register.slug})


def test_everyone_who_reads_the_register_sees_its_tags_and_only_keepers_see_usage(
    client, register_a, owner_a, staff_a, readonly_a, staff_b, tag_a
):
    customer = CustomerFactory(register=register_a)
    CustomerTag.objects.create(tag=tag_a, customer=customer)
    for user in (owner_a, staff_a, readonly_a):
        client.force_login(user)
        response = client.get(tags_url(register_a))
        assert response.status_code == 200
        assert "Messut 2027" in response.content.decode()
        assert response.context["show_usage"] is (user == owner_a)
    client.force_login(owner_a)
    tags = list(client.get(tags_url(register_a)).context["tags"])
    assert [(tag.customer_count, tag.person_count) for tag in tags] == [(1, 0)]
    client.force_login(staff_b)
    assert client.get(tags_url(register_a)).status_code == 404


def test_handlers_create_rename_and_delete_tags_and_staff_get_403(client, register_a, handler_a, staff_a, tag_a):
    create = reverse("segments:tag-create", kwargs={"register": register_a.slug})
    rename = reverse("segments:tag-rename", kwargs={"register": register_a.slug, "code": tag_a.code})
    delete = reverse("segments:tag-delete", kwargs={"register": register_a.slug, "code": tag_a.code})
    client.force_login(staff_a)
    for url in (create, rename, delete):
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "X"}).status_code == 403
    client.force_login(handler_a)
    assert client.post(create, {"name": "Uutiskirje"}).status_code == 302
    response = client.post(create, {"name": "uutiskirje"})
    assert response.status_code == 200
    assert "The register already has a tag with this name." in response.content.decode()
    assert client.post(create, {}).status_code == 200  # an empty form is shown again, not a 500
    assert client.post(rename, {"name": "Messut 2028"}).status_code == 302
    assert client.post(delete).status_code == 302
    assert list(Tag.objects.values_list("name", flat=True)) == ["Uutiskirje"]


def test_another_registers_tag_is_404(client, register_a, handler_a, tag_b):
    client.force_login(handler_a)
    url = reverse("segments:tag-rename", kwargs={"register": register_a.slug, "code": tag_b.code})
    assert client.get(url).status_code == 404
    url = reverse("segments:tag-rename", kwargs={"register": tag_b.register.slug, "code": tag_b.code})
    assert client.get(url).status_code == 404


def test_staff_add_and_remove_tags_on_the_customer_page(client, register_a, staff_a, readonly_a, tag_a):
    customer = CustomerFactory(register=register_a)
    add = reverse("segments:customer-tag-add", kwargs={"register": register_a.slug, "code": customer.code})
    remove = reverse(
        "segments:customer-tag-remove", kwargs={"register": register_a.slug, "code": customer.code, "tag": tag_a.code}
    )
    client.force_login(readonly_a)
    assert client.post(add, {"tag": str(tag_a.code)}).status_code == 403
    client.force_login(staff_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert 'name="tag"' in page
    assert "Messut 2027" in page
    assert client.post(add, {"tag": str(tag_a.code)}).status_code == 302
    assert client.post(add, {"tag": str(tag_a.code)}).status_code == 302
    assert CustomerTag.objects.filter(customer=customer).count() == 1
    assert client.post(add, {}).status_code == 302  # no tag chosen: a message, nothing else
    assert client.get(add).status_code == 405
    assert client.post(remove).status_code == 302
    assert not CustomerTag.objects.exists()


def test_the_panel_refuses_changes_to_a_restricted_customer(client, register_a, staff_a, tag_a):
    customer = CustomerFactory(register=register_a, processing_restricted=True)
    client.force_login(staff_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "customer-tag-add" not in page
    assert 'id="id_add_tag"' not in page
    add = reverse("segments:customer-tag-add", kwargs={"register": register_a.slug, "code": customer.code})
    response = client.post(add, {"tag": str(tag_a.code)}, follow=True)
    assert "Processing of this customer&#x27;s data is restricted" in response.content.decode()
    assert not CustomerTag.objects.exists()


def test_another_registers_customer_is_404_for_tagging(client, register_a, staff_b, tag_a):
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_b)
    add = reverse("segments:customer-tag-add", kwargs={"register": register_a.slug, "code": customer.code})
    assert client.post(add, {"tag": str(tag_a.code)}).status_code == 404


def test_a_saved_view_keeps_filters_and_columns_and_applies_them(client, register_a, staff_a, tag_a):
    tagged = CustomerFactory(register=register_a, organisation_name="Merkitty Oy")
    CustomerFactory(register=register_a, organisation_name="Muu Oy")
    CustomerTag.objects.create(tag=tag_a, customer=tagged)
    client.force_login(staff_a)
    create = reverse("segments:view-create", kwargs={"register": register_a.slug})
    response = client.post(
        create, {"name": "Messuilla", "query": f"tag={tag_a.code}&page=3&evil=1", "columns": ["email"], "shared": ""}
    )
    view = SavedView.objects.get()
    assert response.status_code == 302
    assert response.url == f"{list_url(register_a)}?view={view.code}"
    assert view.query == {"tag": str(tag_a.code)}
    assert view.columns == ["email"]
    assert not view.shared
    page = client.get(response.url)
    assert [row.name for row in page.context["rows"]] == ["Merkitty Oy"]
    assert [column.name for column in page.context["columns"]] == ["email"]
    # The form on the page still narrows or widens the view: an emptied tag shows every customer.
    assert len(client.get(response.url + "&tag=").context["rows"]) == 2


def test_private_views_are_invisible_to_colleagues_and_shared_ones_are_not(client, register_a, owner_a, staff_a):
    private = SavedViewFactory(register=register_a, owner=owner_a, name="Oma")
    shared = SavedViewFactory(register=register_a, owner=owner_a, name="Yhteinen", shared=True)
    client.force_login(staff_a)
    assert client.get(f"{list_url(register_a)}?view={private.code}").status_code == 404
    page = client.get(f"{list_url(register_a)}?view={shared.code}")
    assert page.status_code == 200
    assert [view.name for view in page.context["saved_views"]] == ["Yhteinen"]
    edit = reverse("segments:view-update", kwargs={"register": register_a.slug, "code": shared.code})
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"name": "Kaapattu"}).status_code == 403
    delete = reverse("segments:view-delete", kwargs={"register": register_a.slug, "code": private.code})
    assert client.post(delete).status_code == 404
    client.force_login(owner_a)
    edit = reverse("segments:view-update", kwargs={"register": register_a.slug, "code": private.code})
    assert client.post(edit, {"name": "Oma", "shared": "on"}).status_code == 302
    private.refresh_from_db()
    assert private.shared
    assert client.post(delete).status_code == 302
    assert not SavedView.objects.filter(pk=private.pk).exists()


def test_a_view_of_another_register_is_404(client, register_a, register_b, staff_a, staff_b):
    view = SavedViewFactory(register=register_b, owner=staff_b, shared=True)
    client.force_login(staff_a)
    assert client.get(f"{list_url(register_a)}?view={view.code}").status_code == 404
    assert client.get(f"{list_url(register_a)}?view=not-a-code").status_code == 404
    edit = reverse("segments:view-update", kwargs={"register": register_b.slug, "code": view.code})
    assert client.get(edit).status_code == 404


def test_the_export_of_a_segment_holds_exactly_its_customers(client, register_a, staff_a, tag_a):
    inside = [CustomerFactory(register=register_a, organisation_name=f"Sisällä {n} Oy") for n in range(3)]
    CustomerFactory(register=register_a, organisation_name="Ulkona Oy")
    restricted = CustomerFactory(register=register_a, organisation_name="Rajoitettu Oy", processing_restricted=True)
    for customer in [*inside, restricted]:
        CustomerTag.objects.create(tag=tag_a, customer=customer)
    view = SavedViewFactory(register=register_a, owner=staff_a, query={"tag": str(tag_a.code)})
    client.force_login(staff_a)
    url = reverse("crm:customer-export", kwargs={"register": register_a.slug})
    response = client.get(f"{url}?view={view.code}")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    names = sorted(row[1] for row in rows[1:])
    assert names == ["Sisällä 0 Oy", "Sisällä 1 Oy", "Sisällä 2 Oy"]


def test_saving_a_view_needs_a_name_and_a_readable_register(client, register_a, staff_a, staff_b):
    create = reverse("segments:view-create", kwargs={"register": register_a.slug})
    client.force_login(staff_a)
    assert client.get(create).status_code == 200
    assert client.post(create, {}).status_code == 200
    assert not SavedView.objects.exists()
    client.force_login(staff_b)
    assert client.get(create).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, register_a, tag_a):
    response = client.get(tags_url(register_a))
    assert response.status_code == 302
    UserFactory()


def test_labels_and_the_live_results_follow_the_view(client, register_a, staff_a, tag_a):
    address = {"street_address": "Katu 1", "postal_code": "00100", "city": "Helsinki"}
    inside = CustomerFactory(register=register_a, organisation_name="Sisällä Oy", **address)
    CustomerFactory(register=register_a, organisation_name="Ulkona Oy", **address)
    CustomerTag.objects.create(tag=tag_a, customer=inside)
    view = SavedViewFactory(register=register_a, owner=staff_a, query={"tag": str(tag_a.code)}, columns=["city"])
    client.force_login(staff_a)
    url = reverse("crm:customer-labels-csv", kwargs={"register": register_a.slug})
    text = b"".join(client.get(f"{url}?view={view.code}").streaming_content).decode("utf-8-sig")
    assert "Sisällä Oy" in text
    assert "Ulkona Oy" not in text
    results = client.get(
        f"{list_url(register_a)}?view={view.code}&q=",
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    assert [row.name for row in results.context["rows"]] == ["Sisällä Oy"]
    assert [column.name for column in results.context["columns"]] == ["city"]
