"""URLs of data-subject requests, included in the `privacy` namespace by privacy/urls.py."""

from django.urls import include, path

from . import views

# Public: the request form and the links sent to requesters (signed tokens).
public_patterns = [
    path("", views.request_start, name="request-create"),
    path("<uuid:organisation>/", views.request_form, name="request-form"),
    path("sent/", views.request_sent, name="request-sent"),
    path("confirm/<str:token>/", views.request_confirm, name="confirm"),
    path("status/<str:token>/", views.request_status, name="status"),
    path("status/<str:token>/withdraw/", views.request_withdraw, name="withdraw"),
    path("answer/<str:token>/", views.package_download, name="download"),
    path("answer/<str:token>/<str:fmt>/", views.package_file, name="download-file"),
]

request_patterns = [
    path("", views.request_detail, name="request-detail"),
    path("search/", views.request_search, name="request-search"),
    path("verify/", views.request_verify, name="request-verify"),
    path("ask/", views.request_ask, name="request-ask"),
    path("extend/", views.request_extend, name="request-extend"),
    path("cannot-identify/", views.request_cannot_identify, name="request-cannot-identify"),
    path("duplicate/", views.request_duplicate, name="request-duplicate"),
    path("prepare/", views.request_prepare, name="request-prepare"),
    path("approve/", views.request_approve, name="request-approve"),
    path("move/", views.request_move, name="request-move"),
    path("mandate/", views.mandate_file, name="request-mandate"),
    path("package/<str:fmt>/", views.package_file_staff, name="request-package"),
]

urlpatterns = [
    path("request/", include(public_patterns)),
    path("requests/", views.queue, name="queue"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<uuid:code>/", include(request_patterns)),
    path("figures/", views.figures, name="figures"),
]
