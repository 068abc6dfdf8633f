from django.urls import path

from accounts import views

urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("sso/", views.sso_login, name="sso_login"),
]
