from django.urls import path

from . import views

app_name = "ops"

# Without a trailing slash, as probes and scrapers are configured; settings.SECURE_REDIRECT_EXEMPT names them.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]
