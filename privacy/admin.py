"""Data-subject requests in the Django admin: for main users, read-only.

Requests change only through the workflow screens; the admin lets a main
user look things up (and never edit the state or the event trail).
"""

from django.contrib import admin

from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent, ResponsePackage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["at", "action", "from_state", "to_state", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "state", "channel", "received_at", "service_due_at", "legal_due_at"]
    list_filter = ["state", "kind", "channel", "organisation"]
    search_fields = ["reference"]
    date_hierarchy = "created_at"
    inlines = [RequestEventInline]
    exclude = ["dedupe_key"]


@admin.register(ResponsePackage)
class ResponsePackageAdmin(ReadOnlyAdmin):
    list_display = ["request", "generated_at", "released_at", "expires_at", "download_count", "record_count"]
    exclude = ["html", "pdf", "json"]


@admin.register(Correspondence)
class CorrespondenceAdmin(ReadOnlyAdmin):
    list_display = ["request", "kind", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["kind"]
    exclude = ["message"]
