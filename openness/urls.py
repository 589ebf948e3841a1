from django.urls import path

from . import views

app_name = "openness"

urlpatterns = [
    path("request/", views.request_start, name="request-start"),
    path("request/<uuid:organisation>/", views.request_form, name="request-form"),
    path("request/sent/", views.request_sent, name="request-sent"),
    path("", views.queue, name="queue"),
    path("new/", views.intake, name="intake"),
    path("figures/", views.figures, name="figures"),
    path("<uuid:code>/", views.detail, name="detail"),
    path("<uuid:code>/<slug:name>/", views.action, name="action"),
    path("<uuid:code>/disclose/<slug:register>/", views.disclose, name="disclose"),
    path("<uuid:code>/letter/<str:kind>.pdf", views.letter, name="letter"),
]
