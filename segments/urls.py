from django.urls import path

from . import views

app_name = "segments"

tag_urls = [
    path("<slug:register>/tags/", views.tag_list, name="tag-list"),
    path("<slug:register>/tags/new/", views.tag_create, name="tag-create"),
    path("<slug:register>/tags/<uuid:code>/rename/", views.tag_rename, name="tag-rename"),
    path("<slug:register>/tags/<uuid:code>/delete/", views.tag_delete, name="tag-delete"),
    path("<slug:register>/customers/<uuid:code>/tags/", views.customer_tag_add, name="customer-tag-add"),
    path(
        "<slug:register>/customers/<uuid:code>/tags/<uuid:tag>/remove/",
        views.customer_tag_remove,
        name="customer-tag-remove",
    ),
    path(
        "<slug:register>/customers/<uuid:code>/contacts/<uuid:person>/tags/",
        views.contact_person_tag_add,
        name="contact-person-tag-add",
    ),
    path(
        "<slug:register>/customers/<uuid:code>/contacts/<uuid:person>/tags/<uuid:tag>/remove/",
        views.contact_person_tag_remove,
        name="contact-person-tag-remove",
    ),
]

view_urls = [
    path("<slug:register>/views/new/", views.view_create, name="view-create"),
    path("<slug:register>/views/<uuid:code>/edit/", views.view_update, name="view-update"),
    path("<slug:register>/views/<uuid:code>/delete/", views.view_delete, name="view-delete"),
]

bulk_urls = [
    path("<slug:register>/bulk/", views.bulk_start, name="bulk-start"),
    path("<slug:register>/bulk/<uuid:code>/", views.bulk_detail, name="bulk-detail"),
]

urlpatterns = [*tag_urls, *view_urls, *bulk_urls]
