"""The data subject's "my data" pages (public, the person's own session) and the handlers' link queue."""

from django.urls import path

from .views import links, my_data

app_name = "selfservice"

urlpatterns = [
    path("my-data/", my_data.my_data, name="my-data"),
    path("my-data/sign-in/", my_data.sign_in, name="sign-in"),
    path("my-data/callback/", my_data.callback, name="callback"),
    path("my-data/sign-out/", my_data.sign_out, name="sign-out"),
    path("my-data/signed-out/", my_data.signed_out, name="signed-out"),
    path("my-data/objection/", my_data.marketing_objection, name="objection"),
    path("my-data/consents/<uuid:code>/withdraw/", my_data.consent_withdraw, name="consent-withdraw"),
    path("my-data/requests/new/", my_data.request_start, name="request-start"),
    path("my-data/requests/new/<uuid:organisation>/", my_data.request_new, name="request-new"),
    path("my-data/requests/<uuid:code>/", my_data.request_detail, name="request"),
    path("my-data/requests/<uuid:code>/answer/", my_data.answer_open, name="answer-open"),
    path("my-data/answers/<str:token>/<str:fmt>/", my_data.answer_file, name="answer-file"),
    path("identity-links/", links.link_queue, name="link-queue"),
    path("identity-links/<int:pk>/confirm/", links.link_confirm, name="link-confirm"),
    path("identity-links/<int:pk>/reject/", links.link_reject, name="link-reject"),
]
