from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .description import DescriptionIncompleteError, description_publish
from .models import Membership, Organisation, Register, RegisterDescriptionVersion, RoleGroup
from .selectors import register_list_for_owner


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name_fi", "name_sv", "name_en", "public_authority", "phone", "registry_email"]
    list_filter = ["public_authority"]
    search_fields = ["name_fi", "name_sv", "name_en"]


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin):
    list_display = ["name_fi", "slug", "organisation", "parent", "kind", "retention_months", "updated_at"]
    list_filter = ["kind", "organisation", "automated_decision_making", "direct_marketing"]
    search_fields = ["name_fi", "name_sv", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_fi"]}
    readonly_fields = ["code", "created_at", "updated_at", "description_links"]
    actions = ["publish_description"]

    @admin.display(description=_("register description"))
    def description_links(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("descriptions:preview", kwargs={"slug": obj.slug}),
            _("Preview and publish"),
            reverse("descriptions:detail", kwargs={"slug": obj.slug}),
            _("Public page"),
        )

    def has_publish_permission(self, request) -> bool:
        return register_list_for_owner(user=request.user).exists()

    @admin.action(description=_("Publish the description of the selected registers"), permissions=["publish"])
    def publish_description(self, request, queryset):
        owned = register_list_for_owner(user=request.user)
        published = unchanged = 0
        for register in queryset.filter(pk__in=owned.values("pk")):
            try:
                description_publish(actor=request.user, register=register)
                published += 1
            except DescriptionIncompleteError as error:
                self.message_user(request, f"{register}: {' '.join(error.messages)}", messages.ERROR)
            except ValidationError:
                unchanged += 1
        self.message_user(
            request,
            ngettext("%(count)d description published.", "%(count)d descriptions published.", published)
            % {"count": published},
            messages.SUCCESS,
        )
        if unchanged:
            self.message_user(
                request,
                ngettext("%(count)d description had not changed.", "%(count)d descriptions had not changed.", unchanged)
                % {"count": unchanged},
                messages.WARNING,
            )


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


@admin.register(RegisterDescriptionVersion)
class RegisterDescriptionVersionAdmin(admin.ModelAdmin):
    list_display = ["register", "number", "published_at", "published_by", "change_note"]
    list_filter = ["register"]
    # Published versions are the record of what the public was told: never edited or removed.
    readonly_fields = [f.name for f in RegisterDescriptionVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Access governance (commitments, acceptances, reviews) lives in its own module.
from . import admin_access  # noqa: E402, F401
