"""Read-only review of the audit log for staff, scoped to their organisations.

Built for a table of millions of rows: every list query walks an index in id order, the
result count is capped (no count(*) over the whole table), filters offer choices from
small tables (never DISTINCT over events), and exports stream with a server-side cursor."""

import ipaddress
import json
import re

from django.contrib import admin
from django.contrib.admin.filters import DateFieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

import audit
from audit import export, scope
from audit.catalogue import ACTIONS
from audit.models import AuditEvent
from portal.admin_mixins import ReadOnlyAdminMixin

COUNT_CAP = 10_000
# Object ids as stored in target_id: integers, UUIDs, hex digests.
ID_RE = re.compile(r"\d+|[0-9a-fA-F-]{32,36}")


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: exact below it, "COUNT_CAP or more" above."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[:COUNT_CAP].count()


class AuditChangeList(ChangeList):
    """Newer/older links instead of numbered pages: page numbers past the count cap are
    unknown by design."""

    @property
    def newer_url(self) -> str | None:
        return self.get_query_string({PAGE_VAR: self.page_num - 1}) if self.page_num > 1 else None

    @property
    def older_url(self) -> str | None:
        if self.page_num < self.paginator.num_pages:
            return self.get_query_string({PAGE_VAR: self.page_num + 1})
        return None


class CreatedAtFilter(DateFieldListFilter):
    """Date ranges turned into id ranges: created_at is stamped under the chain lock, so it
    grows with id, and an id range combines with every (column, -id) index while a
    created_at range would make the database skip through the index for ORDER BY id."""

    def queryset(self, request, queryset):
        bounds = {k: (v[-1] if isinstance(v, list) else v) for k, v in self.used_parameters.items()}
        since, until = bounds.get(self.lookup_kwarg_since), bounds.get(self.lookup_kwarg_until)
        try:
            if since:
                first = _first_id_at_or_after(since)
                queryset = queryset.filter(id__gte=first) if first else queryset.none()
            if until:
                after = _first_id_at_or_after(until)
                queryset = queryset.filter(id__lt=after) if after else queryset
        except (ValueError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset


def _first_id_at_or_after(moment) -> int | None:
    return (
        AuditEvent.objects.filter(created_at__gte=moment)
        .order_by("created_at")
        .values_list("id", flat=True)
        .first()
    )


class OrganizationFilter(admin.SimpleListFilter):
    title = "organisation"
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        return [(str(o.pk), o.name) for o in scope.organizations(request.user).order_by("name")]

    def queryset(self, request, queryset):
        return queryset.filter(organization_id=self.value()) if self.value() else queryset


class ProjectFilter(admin.SimpleListFilter):
    title = "project"
    parameter_name = "project"

    def lookups(self, request, model_admin):
        projects = scope.projects(request.user)
        org = request.GET.get("organization")
        if org and org.isdigit():
            projects = projects.filter(organization_id=org)
        return [
            (str(p.pk), f"{p.organization.name} / {p.name}")
            for p in projects.select_related("organization").order_by("organization__name", "name")
        ]

    def queryset(self, request, queryset):
        return queryset.filter(project_id=self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    """Consultants, plus the members of the organisation chosen in the organisation filter
    (listing every customer of every organisation would be unusable)."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        who = Q(is_staff=True)
        org = request.GET.get("organization", "")
        if org.isdigit() and scope.organizations(request.user).filter(pk=org).exists():
            who |= scope.members(org)
        users = get_user_model().objects.filter(who, is_active=True).distinct().order_by("email")
        return [(str(u.pk), u.email or u.get_username()) for u in users[:100]]

    def queryset(self, request, queryset):
        return queryset.filter(actor_id=self.value()) if self.value() else queryset


class ActionFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(ACTIONS)]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "actor_label",
        "organization",
        "project_name",
        "target_label",
        "ip",
    ]
    list_filter = [
        OrganizationFilter,
        ProjectFilter,
        ActorFilter,
        ActionFilter,
        ("created_at", CreatedAtFilter),
    ]
    search_fields = ["actor_label", "target_label"]  # see get_search_results
    search_help_text = (
        "An action name, IP address or object id finds exact matches (fast); other text is "
        "looked for in the actor and target names (slower: narrow with the filters first)."
    )
    list_select_related = ["organization", "project"]
    list_per_page = 100
    show_full_result_count = False
    # Facet counts would run one count over the whole table per filter choice.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    change_list_template = "audit/admin/change_list.html"
    fieldsets = [
        (None, {"fields": ["created_at", "action", "actor_label", "actor", "ip", "user_agent"]}),
        ("Where", {"fields": ["organization", "project", "target_type", "target_id", "target_label"]}),
        ("Data", {"fields": ["pretty_data"]}),
        ("Tamper evidence", {"fields": ["seq", "prev_hash", "hash"]}),
    ]

    # --- scope and permissions: staff read, nobody writes -------------------------------

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # Events without an organisation (a sign-in, MFA set-up) belong to the person they
        # are about: a consultant sees their own, and those of their organisations' customers.
        org_ids = list(scope.organizations(request.user).values_list("pk", flat=True))
        people = [request.user.pk, *scope.people(request.user)]
        return qs.filter(
            Q(organization_id__in=org_ids)
            | Q(organization__isnull=True, actor_id__in=people)
            | Q(organization__isnull=True, target_type="auth.User", target_id__in=[str(p) for p in people])
        )

    def _is_staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return self._is_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_staff(request)

    def get_search_results(self, request, queryset, search_term):
        # Exact terms use an index; only free text falls back to a scan of the labels.
        term = search_term.strip()
        if not term:
            return queryset, False
        if term in ACTIONS:
            return queryset.filter(action=term), False
        try:
            return queryset.filter(ip=str(ipaddress.ip_address(term))), False
        except ValueError:
            pass
        if ID_RE.fullmatch(term):
            return queryset.filter(target_id=term), False
        return (
            queryset.filter(Q(actor_label__icontains=term) | Q(target_label__icontains=term)),
            False,
        )

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

    def get_actions(self, request):
        return {}

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AuditEvent._meta.fields] + ["pretty_data"]

    @admin.display(description="Project")
    def project_name(self, obj: AuditEvent) -> str:
        # Not str(project): that reads the project's organisation, one query per row.
        return obj.project.name if obj.project_id and obj.project else "-"

    @admin.display(description="Data")
    def pretty_data(self, obj: AuditEvent) -> str:
        return format_html(
            '<pre class="audit-data">{}</pre>',
            json.dumps(obj.data, indent=2, sort_keys=True, ensure_ascii=False),
        )

    # --- export --------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "export/<str:fmt>/",
                self.admin_site.admin_view(self.export_view),
                name="audit_auditevent_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, fmt: str) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if fmt not in ("csv", "jsonl"):
            raise Http404("Unknown export format.")
        # The same filters and search as the list page, from the same query string.
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        audit.record(
            "audit.exported",
            actor=request.user,
            format=fmt,
            filters={k: v for k, v in request.GET.items()},
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        rows = export.rows(queryset)
        if fmt == "csv":
            body, content_type = export.csv_lines(rows), "text/csv; charset=utf-8"
        else:
            body, content_type = export.jsonl_lines(rows), "application/x-ndjson; charset=utf-8"
        response = StreamingHttpResponse(export.batched(body), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
        response["Cache-Control"] = "no-store"
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = (extra_context or {}) | {
            "count_cap": COUNT_CAP,
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context)
