from django.urls import path  # noqa: F401 - the views come with the feature

app_name = "segments"
urlpatterns = []
