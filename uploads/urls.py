from django.urls import path

from uploads import views

urlpatterns = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<int:project_id>/live", views.project_live, name="project_live"),
    path(
        "projects/<int:project_id>/deletion-certificates/<uuid:certificate_id>.json",
        views.deletion_certificate,
        name="deletion_certificate",
    ),
]
