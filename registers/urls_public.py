"""Register descriptions: public pages and PDFs, owner preview and publication, the art. 30 record."""

from django.urls import path

from . import views_public as views

app_name = "descriptions"

urlpatterns = [
    path("records-of-processing.json", views.processing_records_export, name="processing-records"),
    path("records-of-processing/", views.processing_records_table, name="processing-records-table"),
    path("records-of-processing.pdf", views.processing_records_pdf, name="processing-records-pdf"),
    path("<slug:slug>/description/", views.description_detail, name="detail"),
    path("<slug:slug>/description.pdf", views.description_pdf, name="pdf"),
    path("<slug:slug>/description/preview/", views.description_preview, name="preview"),
    path("<slug:slug>/description/publish/", views.description_publish_view, name="publish"),
]
