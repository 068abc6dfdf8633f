from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from uploads import services
from uploads.tenancy import Tenancy


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    tenancy = Tenancy(request.user)
    projects = tenancy.projects().order_by("organization__name", "name")
    return render(request, "uploads/project_list.html", {"projects": projects})


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    tenancy = Tenancy(request.user)
    project = tenancy.project(project_id)
    used = services.quota_used(project)
    ctx = {
        "project": project,
        "can_upload": tenancy.can_upload_to(project) and project.is_accepting_uploads(),
        "role": tenancy.role_in(project.organization),
        "quota_used": used,
        "quota_percent": min(100, int(used * 100 / project.quota_bytes)) if project.quota_bytes else 0,
        "in_progress": services.in_progress_uploads(project),
        "completed": services.completed_uploads(project),
    }
    return render(request, "uploads/project_detail.html", ctx)
