from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    # Historical mail into a contact-centre register's archive: an .eml or .mbox file.
    path("<slug:register>/upload/", views.message_upload, name="message-upload"),
]
