from django.urls import include, path

from . import views

app_name = "imports"

batch_urls = [
    path("", views.batch_detail, name="batch-detail"),
    path("mapping/", views.batch_mapping, name="batch-mapping"),
    path("preview/", views.batch_preview, name="batch-preview"),
    path("rejected.csv", views.batch_rejected_csv, name="batch-rejected-csv"),
    path("start/", views.batch_start, name="batch-start"),
    path("cancel/", views.batch_cancel, name="batch-cancel"),
    path("progress/", views.batch_progress, name="batch-progress"),
    path("undo/", views.batch_undo, name="batch-undo"),
]

urlpatterns = [
    path("<slug:register>/", views.batch_list, name="batch-list"),
    path("<slug:register>/<uuid:code>/", include(batch_urls)),
]
