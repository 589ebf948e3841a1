"""The main user's integration-client screens (session login), under /api-clients/ in config/urls.py."""

from django.urls import path

from . import views

app_name = "api_clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<uuid:code>/", views.client_detail, name="detail"),
    path("<uuid:code>/scopes/", views.client_scopes, name="scopes"),
    path("<uuid:code>/revoke/", views.client_revoke, name="revoke"),
]
