"""Staff pages: uploads in progress across the consultant's organisations (stalled first,
with bytes done, speed from heartbeats and time left), and the notification outbox."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Case, F, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin_scoping import StaffScopedAdmin
from portal.admin_mixins import ReadOnlyAdminMixin
from portal.format import human_size
from uploads.models import Notification, Upload, UploadInProgress


def speed_bytes_per_second(upload: Upload) -> float | None:
    """Average rate between the upload's start and its latest heartbeat."""
    if not upload.last_progress_at or not upload.bytes_confirmed:
        return None
    elapsed = (upload.last_progress_at - upload.created_at).total_seconds()
    return upload.bytes_confirmed / elapsed if elapsed > 0 else None


def time_left(upload: Upload) -> timedelta | None:
    speed = speed_bytes_per_second(upload)
    if not speed or upload.status == Upload.Status.STALLED:
        return None
    return timedelta(seconds=int(max(0, upload.size - upload.bytes_confirmed) / speed))


@admin.register(UploadInProgress)
class UploadInProgressAdmin(ReadOnlyAdminMixin, StaffScopedAdmin):
    organization_path = "project__organization"
    list_display = [
        "file",
        "organization",
        "project",
        "status_badge",
        "done",
        "speed",
        "eta",
        "last_heartbeat",
        "uploaded_by",
    ]
    list_filter = ["status", "project__organization"]
    search_fields = ["original_name", "relative_path", "uploaded_by__email"]
    list_select_related = ["project__organization", "uploaded_by"]
    list_display_links = None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=Upload.IN_PROGRESS)

    def get_ordering(self, request):
        stalled_first = Case(
            When(status=Upload.Status.STALLED, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [stalled_first.asc(), F("last_progress_at").desc(nulls_last=True), "-created_at"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    @admin.display(description="File")
    def file(self, obj):
        url = reverse("admin:uploads_upload_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.display_path)

    @admin.display(description="Organisation", ordering="project__organization__name")
    def organization(self, obj):
        return obj.project.organization

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        if obj.status == Upload.Status.STALLED:
            return format_html('<strong style="color:#b00020">{}</strong>', obj.get_status_display())
        return obj.get_status_display()

    @admin.display(description="Done")
    def done(self, obj):
        return f"{human_size(obj.bytes_confirmed)} of {human_size(obj.size)} ({obj.percent_done}%)"

    @admin.display(description="Speed")
    def speed(self, obj):
        rate = speed_bytes_per_second(obj)
        return f"{human_size(rate)}/s" if rate else "–"

    @admin.display(description="Time left")
    def eta(self, obj):
        left = time_left(obj)
        if left is None:
            return "–"
        hours, rest = divmod(int(left.total_seconds()), 3600)
        return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"

    @admin.display(description="Last heartbeat", ordering="last_progress_at")
    def last_heartbeat(self, obj):
        moment = obj.last_progress_at or obj.created_at
        seconds = int((timezone.now() - moment).total_seconds())
        return f"{seconds // 60} min ago" if seconds >= 60 else f"{seconds} s ago"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, StaffScopedAdmin):
    """Read-only outbox: what was sent to whom, and webhooks that keep failing."""

    organization_path = "project__organization"
    list_display = ["kind", "project", "status", "attempts", "created_at", "sent_at", "last_error"]
    list_filter = ["status", "kind"]
    list_select_related = ["project__organization"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Notification._meta.fields]
