from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q, Sum
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

import audit
from accounts.admin_scoping import StaffScopedAdmin, changed_values
from portal.admin_mixins import ReadOnlyAdminMixin
from portal.format import human_datetime, human_size, parse_size
from uploads import checksums, lifecycle, retention
from uploads.models import ExpectedFile, Upload, UploadProject
from uploads.refusals import UploadRefused

UPLOAD_COLUMNS = ["display_path", "status", "human_size", "uploaded_by", "created_at", "completed_at"]


class ReadOnlyUploadInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Upload
    extra = 0
    fields = UPLOAD_COLUMNS
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    @admin.display(description="Size")
    def human_size(self, obj):
        return human_size(obj.size)


class ByteSizeField(forms.CharField):
    """A size typed and shown as people write it ("1.0 TiB", "500 GB"), stored in bytes."""

    def prepare_value(self, value):
        return human_size(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_size(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


def _https_urls(field, **kwargs):
    # Webhooks are https only, so a URL typed without a scheme means https.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class DeleteFileForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the file is deleted (the customer's request, its reference): it goes on the "
        "certificate.",
    )


class UploadProjectForm(forms.ModelForm):
    # Declared fields do not take the model's defaults: give them as initial values.
    quota_bytes = ByteSizeField(
        label="Quota",
        help_text="Total the project may receive, e.g. 1 TiB or 500 GB.",
        initial=UploadProject._meta.get_field("quota_bytes").default,
    )
    max_file_size = ByteSizeField(
        label="Largest file",
        help_text="Largest single file, e.g. 200 GB (S3's limit is 5 TiB).",
        initial=UploadProject._meta.get_field("max_file_size").default,
    )

    class Meta:
        model = UploadProject
        # The admin's fieldsets choose what is shown; this form only reshapes two fields.
        exclude: list[str] = []
        formfield_callback = _https_urls


class ExpectedFileForm(forms.ModelForm):
    min_size = ByteSizeField(label="Smallest", required=False, help_text="e.g. 1 GB; empty: any.")
    max_size = ByteSizeField(label="Largest", required=False, help_text="e.g. 50 GB; empty: any.")

    class Meta:
        model = ExpectedFile
        fields = ["order", "kind", "pattern", "min_size", "max_size", "declared_sha256"]


class ExpectedFileInline(admin.TabularInline):
    """The delivery the customer is asked for; the project page shows each entry's state."""

    model = ExpectedFile
    form = ExpectedFileForm
    extra = 0
    verbose_name = "expected file"
    verbose_name_plural = "expected files (the delivery: a Data Pump log lists its whole file set)"

    # The project's own admin scopes who gets here; any consultant there may edit its list.
    def _is_consultant(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self._is_consultant(request)

    def has_add_permission(self, request, obj=None):
        return self._is_consultant(request)

    def has_change_permission(self, request, obj=None):
        return self._is_consultant(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_consultant(request)


def audit_expected_files(request, formset) -> None:
    """One audit event per expected entry added, changed or removed, with its values."""
    for form in formset.forms:
        entry = form.instance
        if entry in formset.deleted_objects or not form.has_changed() or entry.pk is None:
            continue
        verb = "created" if entry in formset.new_objects else "changed"
        audit.record(
            f"admin.expectedfile.{verb}", actor=request.user, target=entry, changes=changed_values(form)
        )
    for entry in formset.deleted_objects:
        audit.record(
            "admin.expectedfile.deleted",
            actor=request.user,
            target=formset.instance,
            changes={"pattern": {"before": entry.pattern, "after": None}},
        )


@admin.register(UploadProject)
class UploadProjectAdmin(StaffScopedAdmin):
    form = UploadProjectForm
    prepopulated_fields = {"slug": ["name"]}
    # Webhooks are https only, so a URL typed without a scheme means https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "organization", "status", "open_until", "quota", "used", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["name", "slug", "organization__name", "key_prefix"]
    date_hierarchy = "created_at"
    filter_horizontal = ["notify_staff"]
    readonly_fields = [
        "key_prefix",
        "created_by",
        "created_at",
        "closed_at",
        "data_deleted_at",
        "certificates",
    ]
    fieldsets = [
        (None, {"fields": ["organization", "name", "slug", "key_prefix", "status", "open_until"]}),
        ("Limits", {"fields": ["quota_bytes", "max_file_size", "allowed_extensions"]}),
        ("Customers and staff", {"fields": ["instructions", "notify_staff", "created_by", "created_at"]}),
        (
            "Verification and deadlines",
            {
                "fields": [
                    "deep_verify",
                    "sha256_in_browser",
                    "deep_verify_declared",
                    "grace_period_hours",
                    "abandon_after_hours",
                    "webhook_url",
                    "webhook_secret",
                ]
            },
        ),
        (
            "Retention and deletion",
            {
                "fields": [
                    "retention_days",
                    "delete_on",
                    "legal_hold",
                    "closed_at",
                    "data_deleted_at",
                    "certificates",
                ]
            },
        ),
    ]
    inlines = [ExpectedFileInline, ReadOnlyUploadInline]

    def get_readonly_fields(self, request, obj=None):
        # A legal hold is a superuser's decision, set and lifted (audited with the change).
        extra = [] if request.user.is_superuser else ["legal_hold"]
        return [*super().get_readonly_fields(request, obj), *extra]

    @admin.display(description="Deletion certificates")
    def certificates(self, obj):
        if obj is None or not obj.pk:
            return "None yet."
        links = [
            format_html(
                '<a href="{}">{} ({})</a>',
                reverse("deletion_certificate", args=[obj.pk, c.pk]),
                c.get_scope_display(),
                human_datetime(c.completed_at) if c.completed_at else "in progress",
            )
            for c in obj.deletion_certificates.all()
        ]
        return format_html("<br>".join(["{}"] * len(links)), *links) if links else "None yet."

    def get_queryset(self, request):
        received = Q(uploads__status__in=Upload.COUNTS_AGAINST_QUOTA)
        return super().get_queryset(request).annotate(_used=Sum("uploads__size", filter=received))

    @admin.display(description="Quota", ordering="quota_bytes")
    def quota(self, obj):
        return human_size(obj.quota_bytes)

    @admin.display(description="Used", ordering="_used")
    def used(self, obj):
        return human_size(obj._used or 0)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "notify_staff":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is ExpectedFile:
            audit_expected_files(request, formset)


@admin.register(Upload)
class UploadAdmin(StaffScopedAdmin):
    organization_path = "project__organization"
    list_display = ["display_path", "project", "state", "human_size", "uploaded_by", "created_at"]
    list_filter = [
        "status",
        ("missing_since", admin.EmptyFieldListFilter),
        "project__organization",
        "project",
    ]
    search_fields = ["original_name", "relative_path", "object_key", "uploaded_by__email"]
    date_hierarchy = "created_at"
    list_select_related = ["project__organization", "uploaded_by"]

    # Uploads are written by the portal; a superuser may still delete one (StaffScopedAdmin).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["download", "delete_data", "checksum_claims", *[f.name for f in Upload._meta.fields]]

    @admin.display(description="Checksums")
    def checksum_claims(self, obj):
        # Each with who established it: the SHA-256 may be the portal's, read back from storage.
        claims = checksums.claims(obj) if obj else []
        return format_html_join(format_html("<br>"), "{}", ((str(c),) for c in claims)) or "None yet."

    @admin.display(description="Status", ordering="status")
    def state(self, obj):
        # A verified file that storage has since lost must not read "Verified" here either.
        if obj.missing_since and obj.status in Upload.RECEIVED:
            return format_html("<strong>Missing from storage</strong> (was {})", obj.get_status_display())
        return obj.get_status_display()

    @admin.display(description="Delete from storage")
    def delete_data(self, obj):
        if obj is None or obj.status not in Upload.RECEIVED:
            return "Only a received file can be deleted here."
        url = reverse("admin:uploads_upload_delete_data", args=[obj.pk])
        return format_html('<a class="button" href="{}">Delete this file from storage…</a>', url)

    @admin.display(description="Download")
    def download(self, obj):
        if obj is None or obj.status not in Upload.RECEIVED or not obj.version_id:
            return "Available once the file is received."
        if obj.missing_since:
            return f"Missing from storage since {human_datetime(obj.missing_since)}: {obj.status_reason}"
        url = reverse("admin:uploads_upload_download", args=[obj.pk])
        return format_html(
            '<a class="button" href="{}" rel="noreferrer">Download the received version</a> '
            "(a link valid for 15 minutes; the download is audited)",
            url,
        )

    def get_urls(self):
        extra = [
            path(
                "<uuid:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="uploads_upload_download",
            ),
            path(
                "<uuid:object_id>/delete-data/",
                self.admin_site.admin_view(self.delete_data_view),
                name="uploads_upload_delete_data",
            ),
        ]
        return extra + super().get_urls()

    def download_view(self, request, object_id):
        # get_queryset is scoped to the consultant's teams: a foreign upload is a 404.
        upload = self.get_queryset(request).filter(pk=object_id).first()
        if upload is None or not self.has_view_permission(request, upload):
            raise Http404("No such upload.")
        try:
            url = lifecycle.staff_download_url(request.user, upload)
        except UploadRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:uploads_upload_change", args=[upload.pk]))
        return HttpResponseRedirect(url)

    @admin.display(description="Size", ordering="size")
    def human_size(self, obj):
        return human_size(obj.size)

    def delete_data_view(self, request, object_id):
        """Staff delete one received file on the customer's request: every version of its
        key, with a reason, certified (uploads.retention.upload_delete)."""
        upload = self.get_queryset(request).filter(pk=object_id).first()
        if upload is None or not self.has_view_permission(request, upload):
            raise Http404("No such upload.")
        form = DeleteFileForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and upload.status in Upload.RECEIVED:
            try:
                cert = retention.upload_delete(
                    upload=upload, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except UploadRefused as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{upload.display_path} was deleted from storage; certificate {cert.pk}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:uploads_upload_change", args=[upload.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Delete {upload.display_path} from storage",
            "upload": upload,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/uploads/upload/delete_data.html", context)


# The staff "uploads in progress" page.
from uploads import admin_progress  # noqa: E402, F401
