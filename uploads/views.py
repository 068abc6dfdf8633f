from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from uploads import checksums, delivery, retention, selectors
from uploads.models import DeletionCertificate, UploadProject
from uploads.tenancy import Tenancy

# The page's sections that change while it is open, each drawn by one template from the
# same context on load and on every refresh.
LIVE_SECTIONS = {
    "delivery": "uploads/_delivery.html",
    "space": "uploads/_space.html",
    "in_progress": "uploads/_in_progress.html",
    "completed": "uploads/_completed.html",
    "activity": "audit/_project_activity.html",
}


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    tenancy = Tenancy(request.user)
    projects = tenancy.projects().order_by("organization__name", "name")
    return render(request, "uploads/project_list.html", {"projects": projects})


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("activity", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def _live_context(project: UploadProject, activity_page: int) -> dict:
    used = selectors.quota_used(project)
    return {
        "project": project,
        "quota_used": used,
        "quota_percent": min(100, int(used * 100 / project.quota_bytes)) if project.quota_bytes else 0,
        "in_progress": selectors.in_progress_rows(project),
        "completed": selectors.received_uploads(project),
        "activity": selectors.activity_page(project, activity_page),
        "delivery": delivery.delivery_status(project=project),
    }


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    tenancy = Tenancy(request.user)
    project = tenancy.project(project_id)
    ctx = _live_context(project, _page_number(request))
    ctx.update(
        can_upload=tenancy.can_upload_to(project) and project.is_accepting_uploads(),
        role=tenancy.role_in(project.organization),
        largest_file=selectors.largest_file(project),
        poll_seconds=selectors.live_poll_seconds(),
        deletion_date=retention.deletion_date(project),
        certificates=project.deletion_certificates.filter(completed_at__isnull=False),
    )
    return render(request, "uploads/project_detail.html", ctx)


@require_safe
@login_required
def project_live(request: HttpRequest, project_id: int) -> JsonResponse:
    """The page's changing sections, drawn again for the open page to swap in."""
    project = Tenancy(request.user).project(project_id)
    ctx = _live_context(project, _page_number(request))
    # A project that expects nothing in particular has no delivery section on its page.
    sections = {
        name: render_to_string(template, ctx, request=request)
        for name, template in LIVE_SECTIONS.items()
        if name != "delivery" or ctx["delivery"] is not None
    }
    statuses = {
        str(u.pk): {
            "status": u.status,
            "label": u.customer_status,
            "reason": u.status_reason,
            "sha256": checksums.portal_sha256(u),
        }
        for u in ctx["completed"][:200]
    }
    return JsonResponse(
        {"sections": sections, "uploads": statuses, "unsettled": selectors.unsettled(project)},
        headers={"Cache-Control": "no-store"},
    )


@require_safe
@login_required
def deletion_certificate(request: HttpRequest, project_id: int, certificate_id) -> JsonResponse:
    """A deletion certificate as JSON, for the project's customers and its staff: what was
    deleted, when and by which rule; its SHA-256 digest is the one the audit chain holds."""
    project = Tenancy(request.user).project(project_id)
    cert = get_object_or_404(
        DeletionCertificate, pk=certificate_id, project=project, completed_at__isnull=False
    )
    body = {**cert.document(), "digest_sha256": cert.digest}
    filename = f"deletion-certificate-{cert.pk}.json"
    return JsonResponse(
        body,
        json_dumps_params={"indent": 2},
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
