from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Uploads"

    def ready(self) -> None:
        from accounts.admin_scoping import team_organizations
        from audit import scope
        from uploads import signals, tasks  # noqa: F401 - tasks connects Celery to uploads.dispatch
        from uploads.models import UploadProject

        scope.provide(
            projects=lambda user: UploadProject.objects.filter(organization__in=team_organizations(user))
        )
