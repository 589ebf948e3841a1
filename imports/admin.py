from django.contrib import admin

from .models import ImportBatch, ImportEvent


class ImportEventInline(admin.TabularInline):
    model = ImportEvent
    fields = ("at", "actor", "old", "new", "note", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Read-only for main users: batches move only through the import services."""

    list_display = ("file_name", "register", "state", "created_by", "created_at", "rows", "created", "updated")
    list_filter = ("state", "register")
    fields = (
        "code",
        "register",
        "kind",
        "created_by",
        "file_name",
        "checksum",
        "match_mode",
        "state",
        "rows",
        "progress",
        "created",
        "updated",
        "skipped",
        "duplicate",
        "invalid",
        "started_at",
        "finished_at",
        "undone_at",
        "undone_by",
    )
    readonly_fields = fields
    inlines = [ImportEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
