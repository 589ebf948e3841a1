"""The controllers' bounce mailboxes in the Django admin, for main users (like the archive's mailboxes)."""

from django import forms
from django.contrib import admin

from archive.admin import MainUserAdmin
from archive.forms import MailboxAdminForm
from registers.sealing import seal_text

from .models import BounceMailbox


class BounceMailboxAdminForm(MailboxAdminForm):
    """The archive mailbox form's write-only, sealed password, for a bounce mailbox."""

    class Meta:
        model = BounceMailbox
        fields = ["organisation", "address", "host", "port", "security", "username", "password", "folder", "enabled"]

    def _post_clean(self):
        password = self.cleaned_data.get("password")
        if password:
            self.instance.sealed_password = seal_text(password)
        forms.ModelForm._post_clean(self)


@admin.register(BounceMailbox)
class BounceMailboxAdmin(MainUserAdmin):
    form = BounceMailboxAdminForm
    list_display = ["organisation", "address", "host", "enabled", "last_polled_at"]
    list_filter = ["enabled"]
    list_select_related = ["organisation"]
    readonly_fields = ["last_polled_at", "last_uid"]

    def has_add_permission(self, request):
        return self._main(request)

    def has_change_permission(self, request, obj=None):
        return self._main(request)

    def has_delete_permission(self, request, obj=None):
        return False
