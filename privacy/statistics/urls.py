"""Statistics without personal data, per register (register owners and main users)."""

from django.urls import path

from . import views

app_name = "statistics"

urlpatterns = [
    path("<slug:slug>/statistics/", views.statistics_view, name="register"),
    path("<slug:slug>/statistics.csv", views.statistics_csv_view, name="register-csv"),
]
