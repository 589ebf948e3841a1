"""Retention preview, legal holds and purge runs of one register (register owners and main users)."""

from django.urls import path

from . import views

app_name = "retention"

urlpatterns = [
    path("<slug:slug>/retention/", views.retention_preview_view, name="preview"),
    path("<slug:slug>/retention/holds/", views.legal_hold_place_view, name="hold-place"),
    path("<slug:slug>/retention/holds/<uuid:code>/release/", views.legal_hold_release_view, name="hold-release"),
    path("<slug:slug>/retention/run/", views.purge_run_now_view, name="run"),
]
