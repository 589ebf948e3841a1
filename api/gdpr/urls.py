"""/gdpr-api/v1/profiles/<profile id>: the profile calls exactly the URL it is configured with, slash or not."""

from django.urls import path

from . import views

urlpatterns = [
    path("v1/profiles/<uuid:profile_id>", views.ProfileGDPRView.as_view(), name="gdpr-profile"),
    path("v1/profiles/<uuid:profile_id>/", views.ProfileGDPRView.as_view(), name="gdpr-profile-slash"),
]
