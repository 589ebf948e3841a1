"""/api/v1/registers/<slug>/customers/…: customers with their contact persons and interactions, and the
register-wide change lists of contact persons and interactions for synchronisation. A code that is not a UUID
is 404 here, before any view runs."""

from django.urls import include, path

from . import views

customer_patterns = [
    path("", views.CustomerDetail.as_view(), name="customer-detail"),
    path("contact-persons/", views.ContactPersonList.as_view(), name="contact-person-list"),
    path("contact-persons/<uuid:person>/", views.ContactPersonDetail.as_view(), name="contact-person-detail"),
    path("interactions/", views.InteractionList.as_view(), name="interaction-list"),
    path("interactions/<uuid:interaction>/", views.InteractionDetail.as_view(), name="interaction-detail"),
]

register_patterns = [
    path("customers/", views.CustomerList.as_view(), name="customer-list"),
    path("customers/<uuid:code>/", include(customer_patterns)),
    path("contact-persons/", views.RegisterContactPersonList.as_view(), name="register-contact-person-list"),
    path("interactions/", views.RegisterInteractionList.as_view(), name="register-interaction-list"),
]

urlpatterns = [
    path("registers/<slug:slug>/", include(register_patterns)),
]
