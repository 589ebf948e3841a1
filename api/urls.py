"""/api/v1/ (the integration API, versioned in the path), its OpenAPI document and docs, and /gdpr-api/."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api"


def _open(patterns):
    """Mark the views as not needing a signed-in session: the API authenticates each call by its key or token
    (LoginRequiredMiddleware would otherwise send machines to the login page)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _open(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(pattern.callback)
    return patterns


v1 = [
    path("registers/", views.RegisterList.as_view(), name="register-list"),
    path("registers/<slug:slug>/", views.RegisterDetail.as_view(), name="register-detail"),
    path("me/", views.Me.as_view(), name="me"),
    path("", include("api.customers.urls")),
    path("", include("api.records.urls")),
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
]

urlpatterns = _open(
    [
        path("api/v1/", include(v1)),
        path("gdpr-api/", include("api.gdpr.urls")),
    ]
)
