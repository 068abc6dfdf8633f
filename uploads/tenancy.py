"""Tenant isolation in one place.

Customer-facing views and API endpoints reach organisations, projects and uploads only
through Tenancy, which scopes every query to the signed-in user's memberships of active
organisations. A foreign or unknown id raises Http404, so another tenant's objects are
indistinguishable from ones that do not exist.
"""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Membership, Organization
from uploads.models import Upload, UploadProject


class Tenancy:
    def __init__(self, user):
        self.user = user

    def memberships(self) -> QuerySet[Membership]:
        if not self.user.is_authenticated or not self.user.is_active:
            return Membership.objects.none()
        return Membership.objects.filter(user=self.user, organization__is_active=True)

    def organizations(self) -> QuerySet[Organization]:
        return Organization.objects.filter(pk__in=self.memberships().values("organization_id"))

    def projects(self) -> QuerySet[UploadProject]:
        return UploadProject.objects.filter(organization__in=self.organizations()).select_related(
            "organization"
        )

    def uploads(self) -> QuerySet[Upload]:
        return Upload.objects.filter(project__in=self.projects()).select_related(
            "project", "project__organization", "uploaded_by"
        )

    def project(self, project_id) -> UploadProject:
        try:
            return self.projects().get(pk=project_id)
        except (UploadProject.DoesNotExist, ValueError, TypeError):
            raise Http404("No such project.") from None

    def upload(self, upload_id) -> Upload:
        try:
            return self.uploads().get(pk=upload_id)
        # A malformed UUID raises ValidationError from the UUID field.
        except (Upload.DoesNotExist, ValueError, TypeError, ValidationError):
            raise Http404("No such upload.") from None

    def role_in(self, organization: Organization) -> str | None:
        return self.memberships().filter(organization=organization).values_list("role", flat=True).first()

    def can_upload_to(self, project: UploadProject) -> bool:
        return self.role_in(project.organization) == Membership.Role.UPLOADER
