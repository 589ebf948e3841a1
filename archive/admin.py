"""The archive's intakes in the Django admin: main users configure mailboxes and see the recording lists read.

The main users' group carries no model permissions on this app (registers.services.main_users_group_ensure
lists auth and registers only), so each admin here asks `is_main_user` itself: a staff user outside the group
gets nothing, whatever permissions were given to them by hand.
"""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from registers.services import is_main_user

from .forms import MailboxAdminForm
from .models import Mailbox, RecordingList
from .recordings import problem_reason


class MainUserAdmin(admin.ModelAdmin):
    def _main(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and is_main_user(request.user)

    def has_module_permission(self, request):
        return self._main(request)

    def has_view_permission(self, request, obj=None):
        return self._main(request)


@admin.register(Mailbox)
class MailboxAdmin(MainUserAdmin):
    form = MailboxAdminForm
    list_display = ["ordering_client", "name", "host", "enabled", "last_polled_at", "last_error"]
    list_filter = ["enabled", "ordering_client__register"]
    list_select_related = ["ordering_client"]
    search_fields = ["name", "host", "ordering_client__department"]
    readonly_fields = ["last_polled_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["ordering_client", "name", "enabled", "poll_minutes"]}),
        (_("Server"), {"fields": ["host", "port", "security", "username", "password"]}),
        (_("Folders"), {"fields": ["inbox_folder", "sent_folder", "processed_folder"]}),
        (_("Reading"), {"fields": ["last_polled_at", "last_error"]}),
    ]

    def has_add_permission(self, request):
        return self._main(request)

    def has_change_permission(self, request, obj=None):
        return self._main(request)

    def has_delete_permission(self, request, obj=None):
        # A mailbox is taken out of use (enabled off), not deleted: its poll state and audit trail stay.
        return False


@admin.register(RecordingList)
class RecordingListAdmin(MainUserAdmin):
    list_display = ["filename", "read_at", "imported", "skipped", "problem_count"]
    fields = ["filename", "sha256", "read_at", "imported", "skipped", "problem_list"]
    readonly_fields = fields
    search_fields = ["filename"]
    date_hierarchy = "read_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("rows refused"))
    def problem_count(self, obj) -> int:
        return len(obj.problems)

    @admin.display(description=_("rows refused"))
    def problem_list(self, obj):
        if not obj.problems:
            return "-"
        return format_html_join(
            "\n",
            "<div>{}</div>",
            (
                (_("Row %(row)s: %(reason)s") % {"row": item.get("row"), "reason": problem_reason(item.get("reason"))},)
                for item in obj.problems
            ),
        )
