from django.urls import include, path

from . import views, views_audit, views_review

app_name = "registers"

review_urls = [
    path("", views_review.review_detail, name="review-detail"),
    path("items/<uuid:item>/decide/", views_review.review_item_decide, name="review-item-decide"),
    path("complete/", views_review.review_complete, name="review-complete"),
    path("evidence.pdf", views_review.review_pdf, name="review-pdf"),
]

register_urls = [
    path("access/", views.membership_list_view, name="membership-list"),
    path("access/grant/", views.membership_grant_view, name="membership-grant"),
    path("access/<uuid:code>/end/", views.membership_end_view, name="membership-end"),
    path("reviews/", views_review.review_list, name="review-list"),
    path("reviews/open/", views_review.review_open, name="review-open"),
    path("reviews/<uuid:code>/", include(review_urls)),
    path("audit/changes/", views_audit.audit_changes, name="audit-changes"),
    path("audit/access/", views_audit.audit_access, name="audit-access"),
    path("audit/logins/", views_audit.audit_logins, name="audit-logins"),
]

urlpatterns = [
    path("commitment/", views.commitment, name="commitment"),
    path("commitment/<uuid:code>/accept/", views.commitment_accept, name="commitment-accept"),
    path("users/", views.user_list, name="user-list"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<str:username>/", views.user_detail, name="user-detail"),
    path("users/<str:username>/deactivate/", views.user_deactivate, name="user-deactivate"),
    path("logins/", views_audit.login_log, name="login-log"),
    path("<slug:register>/", include(register_urls)),
]
