from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from uploads.api import api

admin.site.site_header = "Upload Portal: consultants"
admin.site.site_title = "Upload Portal admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="project_list", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    path("", include("uploads.urls")),
]
