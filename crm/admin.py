"""Customer data in the Django admin: shown to main users, never changed there.

A change of personal data goes through the staff screens and crm.services, which check the
register's collected fields, the restriction of processing (art. 18), objections and edit
conflicts, and audit the actor. The admin would bypass all of them, so it only shows.
"""

from django.contrib import admin

from .models import CallRecording, ContactCentreMessage, ContactPerson, Customer, Interaction, Invoice, OrderingClient


class ReadOnlyPersonalDataAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ContactPersonInline(admin.TabularInline):
    model = ContactPerson
    extra = 0
    fields = ["first_name", "last_name", "title", "email", "phone"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyPersonalDataAdmin):
    list_display = ["__str__", "register", "kind", "business_id", "email", "last_activity_at"]
    list_filter = ["register", "kind", "language", "marketing_objection", "processing_restricted"]
    search_fields = ["sort_name", "business_id", "email"]
    readonly_fields = ["code", "created_at", "updated_at", "version"]
    inlines = [ContactPersonInline]
    list_select_related = ["register"]


@admin.register(ContactPerson)
class ContactPersonAdmin(ReadOnlyPersonalDataAdmin):
    list_display = ["__str__", "customer", "title", "email"]
    list_filter = ["customer__register"]
    search_fields = ["last_name", "first_name", "email", "customer__sort_name"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyPersonalDataAdmin):
    list_display = ["subject", "customer", "kind", "occurred_at", "staff_user"]
    list_filter = ["kind", "customer__register"]
    search_fields = ["subject", "customer__sort_name"]
    raw_id_fields = ["customer", "contact_person"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer", "staff_user"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyPersonalDataAdmin):
    list_display = ["number", "customer", "amount", "due_date", "status"]
    list_filter = ["status", "customer__register"]
    search_fields = ["number", "customer__sort_name"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(OrderingClient)
class OrderingClientAdmin(admin.ModelAdmin):
    list_display = ["department", "register", "active_until"]
    list_filter = ["register"]
    search_fields = ["department"]
    filter_horizontal = ["managers"]


class ReadOnlyArchiveAdmin(admin.ModelAdmin):
    """Archive items are immutable: viewable, never added or edited here."""

    list_filter = ["ordering_client", "register"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ContactCentreMessage)
class ContactCentreMessageAdmin(ReadOnlyArchiveAdmin):
    list_display = ["subject", "direction", "sender", "recipient", "sent_at", "ordering_client"]
    list_filter = ["direction", *ReadOnlyArchiveAdmin.list_filter]
    search_fields = ["subject", "sender", "recipient"]
    date_hierarchy = "sent_at"


@admin.register(CallRecording)
class CallRecordingAdmin(ReadOnlyArchiveAdmin):
    list_display = ["recorded_at", "agent_location_code", "caller_number_fragment", "ordering_client"]
    search_fields = ["agent_location_code"]
    date_hierarchy = "recorded_at"
