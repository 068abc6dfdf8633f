from django.contrib import admin

from accounts.admin_scoping import StaffScopedAdmin
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(StaffScopedAdmin):
    list_display = ["created_at", "action", "actor_label", "organization", "project", "target_label", "ip"]
    list_filter = ["action", "organization"]
    search_fields = ["actor_label", "target_label", "target_id"]
    date_hierarchy = "created_at"
    list_select_related = ["organization", "project"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
