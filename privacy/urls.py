"""The `privacy` namespace: request handling and the rights it carries, side by side (neither imports the other)."""

from django.urls import include, path

app_name = "privacy"

urlpatterns = [
    path("", include("privacy.requests.urls")),
    # Rectification, erasure, restriction, objection, consents, portability, refusals, the disclosure ledger.
    path("", include("privacy.rights.urls")),
]
