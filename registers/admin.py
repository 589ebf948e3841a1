from django.contrib import admin

from .models import Membership, Organisation, Register, RoleGroup


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "registry_email"]
    search_fields = ["name"]


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin):
    list_display = ["name_fi", "slug", "organisation", "parent", "kind", "retention_months", "updated_at"]
    list_filter = ["kind", "organisation", "automated_decision_making"]
    search_fields = ["name_fi", "name_sv", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_fi"]}
    readonly_fields = ["code", "created_at", "updated_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "register", "role", "starts_on", "ends_on", "ended_at", "granted_by"]
    list_filter = ["role", "register", "ended_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    # Grants and removals go through the services so that the guardian
    # permissions follow; the admin only shows them.
    readonly_fields = [f.name for f in Membership._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoleGroup)
class RoleGroupAdmin(admin.ModelAdmin):
    list_display = ["register", "role", "group"]
    list_filter = ["role"]
    readonly_fields = ["register", "role", "group"]

    def has_add_permission(self, request):
        return False
