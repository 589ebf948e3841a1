"""Invoices, archived messages, data-subject requests, import batches and duplicate candidates, per register."""

from django.urls import path

from . import views

urlpatterns = [
    path("registers/<slug:slug>/invoices/", views.InvoiceList.as_view(), name="invoice-list"),
    path("registers/<slug:slug>/invoices/<uuid:code>/", views.InvoiceDetail.as_view(), name="invoice-detail"),
    path("registers/<slug:slug>/messages/", views.MessageList.as_view(), name="message-list"),
    path("registers/<slug:slug>/messages/<uuid:code>/", views.MessageDetail.as_view(), name="message-detail"),
    path("registers/<slug:slug>/data-subject-requests/", views.RequestList.as_view(), name="request-list"),
    path(
        "registers/<slug:slug>/data-subject-requests/<uuid:code>/",
        views.RequestDetail.as_view(),
        name="request-detail",
    ),
    path("registers/<slug:slug>/imports/", views.ImportBatchList.as_view(), name="import-list"),
    path("registers/<slug:slug>/imports/<uuid:code>/", views.ImportBatchDetail.as_view(), name="import-detail"),
    path("registers/<slug:slug>/duplicates/", views.DuplicateList.as_view(), name="duplicate-list"),
    path("registers/<slug:slug>/duplicates/<uuid:code>/", views.DuplicateDetail.as_view(), name="duplicate-detail"),
]
