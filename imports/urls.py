from django.urls import path  # noqa: F401 - the import screens' routes are added here

app_name = "imports"

urlpatterns: list = []
