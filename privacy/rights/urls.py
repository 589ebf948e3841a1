"""URLs of the rights of arts. 16-21, included in the `privacy` namespace by privacy/urls.py.

Under request/ (public, signed links): consent withdrawal and the decision letter. The rest is staff-only; the notice
texts of a register are its owner's (and a main user's).
"""

from django.urls import include, path

from . import views

rights_patterns = [
    path("", views.request_rights, name="rights"),
    path("letter/", views.request_letter, name="rights-letter"),
    path("prepare/", views.request_prepare, name="rights-prepare"),
    path("corrections/", views.rectification_add, name="rights-correction-add"),
    path("corrections/archive/", views.rectification_archive, name="rights-correction-archive"),
    path("corrections/apply/", views.rectification_apply, name="rights-correction-apply"),
    path("corrections/<uuid:item>/refuse/", views.rectification_refuse, name="rights-correction-refuse"),
    path("erasure/plan/", views.erasure_plan, name="rights-erasure-plan"),
    path("erasure/execute/", views.erasure_execute, name="rights-erasure-execute"),
    path("erasure/mentions/<uuid:item>/", views.erasure_mention_decide, name="rights-erasure-mention"),
    path("restrict/", views.restriction_apply, name="rights-restrict"),
    path("restrict/lift/", views.restriction_lift_ask, name="rights-restriction-lift"),
    path("restrict/lift/letter/", views.restriction_lift_letter, name="rights-restriction-lift-letter"),
    path("restrict/lift/posted/", views.restriction_lift_posted, name="rights-restriction-lift-posted"),
    path("restrict/lift/cancel/", views.restriction_lift_cancel, name="rights-restriction-lift-cancel"),
    path("object/", views.objection_apply, name="rights-object"),
    path("object/weigh/", views.objection_weighing_open, name="rights-object-weigh"),
    path("object/weigh/decide/", views.objection_weighing_decide, name="rights-object-weigh-decide"),
    path("withdraw-consents/", views.consents_withdraw, name="rights-consents-withdraw"),
    path("portable-data/", views.portability_build, name="rights-portability"),
    path("notifications/<uuid:task>/", views.notification_resolve, name="rights-notification"),
    path("decide/", views.request_decide, name="rights-decide"),
    path("refuse/", views.request_refuse, name="rights-refuse"),
]

customer_patterns = [
    path("", views.customer_consents, name="customer-consents"),
    path("give/", views.customer_consent_give, name="customer-consent-give"),
    path("<uuid:consent_code>/withdraw/", views.customer_consent_withdraw, name="customer-consent-withdraw"),
]

urlpatterns = [
    path("request/consent/<str:token>/", views.consent_withdraw_public, name="consent-withdraw"),
    path("request/status/<str:token>/letter/", views.request_letter_public, name="status-letter"),
    path("requests/<uuid:code>/rights/", include(rights_patterns)),
    path("disclosures/<slug:register>/", views.disclosure_ledger, name="disclosures"),
    path("consents/<slug:register>/<uuid:code>/", include(customer_patterns)),
    path("notices/<slug:register>/", views.notice_list, name="notices"),
    path("notices/<slug:register>/new/", views.notice_create, name="notice-create"),
]
