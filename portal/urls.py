from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from portal import views as portal_views
from uploads.api import api

admin.site.site_header = "Upload Portal: consultants"
admin.site.site_title = "Upload Portal admin"
# Django's own admin login would skip allauth's MFA stage and rate limits.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("favicon.ico", portal_views.favicon, name="favicon"),
    path("", RedirectView.as_view(pattern_name="project_list", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("api/", api.urls),
    path("", include("uploads.urls")),
]
