from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from registers import two_factor
from registers import views as register_views

urlpatterns = [
    path("", register_views.home, name="home"),
    path("accounts/login/", login_not_required(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/two-factor/", two_factor.two_factor, name="two-factor"),
    # A new account gets a one-time link to choose its password (registers.accounts.user_create).
    path(
        "accounts/reset/<uidb64>/<token>/",
        login_not_required(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        login_not_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", register_views.language_set, name="set_language"),
    path("registers/", include("registers.urls")),
    path("registers/", include("registers.urls_public")),
    path("registers/", include("privacy.retention.urls")),
    path("registers/", include("privacy.statistics.urls")),
    path("crm/", include("crm.urls")),
    # Customers brought in from files, per register (issue 15).
    path("imports/", include("imports.urls")),
    # Likely duplicate customers, their merge and its undo, per register (issue 16).
    path("duplicates/", include("duplicates.urls")),
    path("archive/", include("archive.urls")),
    # The daily work (issue 18): follow-ups, saved views and bulk actions, campaign e-mail and its objection link.
    path("followups/", include("followups.urls")),
    path("segments/", include("segments.urls")),
    path("campaigns/", include("campaigns.urls")),
    # Data-subject requests: staff screens and, under privacy/request/, the public form.
    path("privacy/", include("privacy.urls")),
    # The integration API and the Helsinki-profile GDPR API (issue 19): machines, each call with its own key or token.
    path("", include("api.urls")),
    path("api-clients/", include("api.clients.urls")),
    # Document requests under the Openness Act 621/1999 (issue 21): the public form and the handlers' screens.
    path("openness/", include("openness.urls")),
    # Identified self-service (issue 20): the data subject's "my data" pages and the handlers' link queue.
    path("", include("selfservice.urls")),
    # Health, readiness and metrics for the load balancer and the scraper (issue 23).
    path("", include("ops.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "api.problems.page_not_found"
