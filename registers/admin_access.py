"""Admin screens of access governance: commitments, acceptances and access reviews (main users only).

Reviews are decided on the owner's screens; here main users see every register's
campaigns and which of them are overdue. Commitments are published through
the service, so versions are numbered and audited.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import accounts
from .models import AccessReview, AccessReviewItem, CommitmentAcceptance, ConfidentialityCommitment


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue")), ("no", _("not overdue"))]

    def queryset(self, request, queryset):
        overdue = AccessReview.objects.overdue().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue)
        return queryset


class AccessReviewItemInline(admin.TabularInline):
    model = AccessReviewItem
    fields = ["user", "decision", "reason", "decided_by", "decided_at", "last_login_at", "commitment_version"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccessReview)
class AccessReviewAdmin(admin.ModelAdmin):
    list_display = ["register", "status", "opened_at", "due_at", "is_overdue", "completed_at", "completed_by"]
    list_filter = ["status", OverdueFilter, "register"]
    readonly_fields = [f.name for f in AccessReview._meta.fields]
    inlines = [AccessReviewItemInline]

    @admin.display(boolean=True, description=_("overdue"))
    def is_overdue(self, obj):
        return obj.status == AccessReview.Status.OPEN and obj.due_at < timezone.now()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Decisions are made on the owner's screen; the admin shows them.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConfidentialityCommitment)
class ConfidentialityCommitmentAdmin(admin.ModelAdmin):
    list_display = ["organisation", "version", "created_at", "published_by"]
    list_filter = ["organisation"]
    fields = ["organisation", "text_fi", "text_sv", "text_en"]

    def has_change_permission(self, request, obj=None):
        # A published version is what users accepted: a change is a new version.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        published = accounts.commitment_publish(
            actor=request.user,
            organisation=obj.organisation,
            text_fi=obj.text_fi,
            text_sv=obj.text_sv,
            text_en=obj.text_en,
        )
        obj.pk = published.pk
        obj.version = published.version


@admin.register(CommitmentAcceptance)
class CommitmentAcceptanceAdmin(admin.ModelAdmin):
    list_display = ["user", "commitment", "accepted_at", "remote_addr"]
    list_filter = ["commitment__organisation"]
    search_fields = ["user__username", "user__last_name"]
    readonly_fields = ["user", "commitment", "accepted_at", "remote_addr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
