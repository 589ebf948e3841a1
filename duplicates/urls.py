from django.urls import include, path

from . import views

app_name = "duplicates"

register_urls = [
    path("", views.candidate_list, name="candidate-list"),
    path("candidates/<uuid:code>/dismiss/", views.candidate_dismiss, name="candidate-dismiss"),
    path("merge/", views.customer_merge, name="customer-merge"),
    path("customers/<uuid:code>/contacts/merge/", views.contact_person_merge, name="contact-person-merge"),
    path("merges/", views.merge_list, name="merge-list"),
    path("merges/<uuid:code>/", views.merge_detail, name="merge-detail"),
]

urlpatterns = [
    path("<slug:register>/", include(register_urls)),
]
