from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Q, Sum
from django.template.defaultfilters import filesizeformat

from accounts.admin_scoping import StaffScopedAdmin
from uploads.models import Upload, UploadProject

UPLOAD_COLUMNS = ["display_path", "status", "human_size", "uploaded_by", "created_at", "completed_at"]


class ReadOnlyUploadInline(admin.TabularInline):
    model = Upload
    extra = 0
    fields = UPLOAD_COLUMNS
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    @admin.display(description="Size")
    def human_size(self, obj):
        return filesizeformat(obj.size)


@admin.register(UploadProject)
class UploadProjectAdmin(StaffScopedAdmin):
    list_display = ["name", "organization", "status", "open_until", "quota", "used", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["name", "slug", "organization__name", "key_prefix"]
    date_hierarchy = "created_at"
    filter_horizontal = ["notify_staff"]
    readonly_fields = ["key_prefix", "created_by", "created_at"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "slug", "key_prefix", "status", "open_until"]}),
        ("Limits", {"fields": ["quota_bytes", "max_file_size", "allowed_extensions"]}),
        ("Customers and staff", {"fields": ["instructions", "notify_staff", "created_by", "created_at"]}),
    ]
    inlines = [ReadOnlyUploadInline]

    def get_queryset(self, request):
        received = Q(uploads__status__in=Upload.COUNTS_AGAINST_QUOTA)
        return super().get_queryset(request).annotate(_used=Sum("uploads__size", filter=received))

    @admin.display(description="Quota", ordering="quota_bytes")
    def quota(self, obj):
        return filesizeformat(obj.quota_bytes)

    @admin.display(description="Used", ordering="_used")
    def used(self, obj):
        return filesizeformat(obj._used or 0)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "notify_staff":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Upload)
class UploadAdmin(StaffScopedAdmin):
    organization_path = "project__organization"
    list_display = ["display_path", "project", "status", "human_size", "uploaded_by", "created_at"]
    list_filter = ["status", "project__organization", "project"]
    search_fields = ["original_name", "relative_path", "object_key", "uploaded_by__email"]
    date_hierarchy = "created_at"
    list_select_related = ["project__organization", "uploaded_by"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Upload._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Size", ordering="size")
    def human_size(self, obj):
        return filesizeformat(obj.size)


# The staff "uploads in progress" page (issue 6).
from uploads import admin_progress  # noqa: E402, F401
