from django.urls import include, path

from . import views

app_name = "campaigns"

campaign_urls = [
    path("", views.campaign_detail, name="detail"),
    path("edit/", views.campaign_update, name="update"),
    path("progress/", views.campaign_progress, name="progress"),
    path("test/", views.campaign_test_send, name="test-send"),
    path("send/", views.campaign_queue, name="queue"),
    path("cancel/", views.campaign_cancel, name="cancel"),
]

urlpatterns = [
    path("<slug:register>/", views.campaign_list, name="list"),
    path("<slug:register>/new/", views.campaign_create, name="create"),
    path("<slug:register>/<uuid:code>/", include(campaign_urls)),
    # Last: a register could be named "u"; a signed token is never "new".
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
