from django.urls import include, path

from . import profile_link, views

app_name = "crm"

contact_person_urls = [
    path("edit/", views.contact_person_update, name="contact-person-update"),
    path("delete/", views.contact_person_delete, name="contact-person-delete"),
]

interaction_urls = [
    path("edit/", views.interaction_update, name="interaction-update"),
    path("delete/", views.interaction_delete, name="interaction-delete"),
]

customer_urls = [
    path("", views.customer_detail, name="customer-detail"),
    path("edit/", views.customer_update, name="customer-update"),
    path("delete/", views.customer_delete, name="customer-delete"),
    path("history/", views.customer_history, name="customer-history"),
    path("profile-link/", profile_link.customer_profile_link, name="customer-profile-link"),
    path("contacts/new/", views.contact_person_create, name="contact-person-create"),
    path("contacts/<uuid:person>/", include(contact_person_urls)),
    path("interactions/new/", views.interaction_create, name="interaction-create"),
    path("interactions/<uuid:interaction>/", include(interaction_urls)),
    # A name or address the company register's nightly refresh found changed (crm.company_refresh).
    path(
        "company-changes/<uuid:change>/apply/",
        views.company_change_decide,
        {"decision": "apply"},
        name="company-change-apply",
    ),
    path(
        "company-changes/<uuid:change>/dismiss/",
        views.company_change_decide,
        {"decision": "dismiss"},
        name="company-change-dismiss",
    ),
]

message_urls = [
    path("", views.message_detail, name="message-detail"),
    path("thread/", views.message_thread, name="message-thread"),
    path("attachments/<uuid:attachment>/", views.message_attachment, name="message-attachment"),
    # The unmasked original: the contact-centre expert only, every opening access-logged.
    path("original/", views.message_original, name="message-original"),
]

register_urls = [
    path("", views.customer_list, name="customer-list"),
    path("customers.csv", views.customer_export, name="customer-export"),
    path("labels.csv", views.customer_labels_csv, name="customer-labels-csv"),
    path("labels.pdf", views.customer_labels_pdf, name="customer-labels-pdf"),
    path("customers/new/<slug:kind>/", views.customer_create, name="customer-create"),
    # The new-customer form's live duplicate check (htmx, POST: what is typed stays out of the URL).
    path("customers/new/<slug:kind>/duplicates/", views.customer_duplicate_check, name="customer-duplicate-check"),
    path("companies/", views.company_search, name="company-search"),
    path("customers/<uuid:code>/", include(customer_urls)),
    path("messages/", views.message_list, name="message-list"),
    path("messages.csv", views.message_export, name="message-export"),
    path("messages/<uuid:code>/", include(message_urls)),
    path("recordings/", views.call_recording_list, name="call-recording-list"),
]

urlpatterns = [
    path("<slug:register>/", include(register_urls)),
]
