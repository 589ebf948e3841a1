from django.urls import include, path

from . import views

app_name = "followups"

# Per follow-up, inside its register: the register in the URL scopes every lookup (404 across registers).
followup_urls = [
    path("edit/", views.followup_update, name="followup-update"),
    path("done/", views.followup_done, name="followup-done"),
    path("reopen/", views.followup_reopen, name="followup-reopen"),
    path("delete/", views.followup_delete, name="followup-delete"),
]

urlpatterns = [
    path("", views.followup_mine, name="mine"),
    path("digest/", views.digest_setting, name="digest-setting"),
    path("<slug:register>/customers/<uuid:code>/new/", views.followup_create, name="followup-create"),
    path("<slug:register>/<uuid:followup>/", include(followup_urls)),
]
