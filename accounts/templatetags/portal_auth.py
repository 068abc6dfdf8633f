from django import template
from django.urls import reverse

from accounts import directories
from accounts.mfa import lacks_required_mfa
from accounts.views import sso_enabled as _sso_enabled

register = template.Library()


@register.simple_tag
def sso_enabled() -> bool:
    return _sso_enabled()


@register.simple_tag
def customer_passwords() -> bool:
    """Customers sign in with a password kept by the portal (False: only through SSO)."""
    return directories.current().customer_passwords


@register.simple_tag(takes_context=True)
def continue_url(context) -> str:
    """Where a person setting up MFA goes next once nothing more is required of them: admin for
    consultants, their projects for customers; empty while a required factor is missing."""
    user = context["request"].user
    if not user.is_authenticated or lacks_required_mfa(user):
        return ""
    return reverse("admin:index") if user.is_staff else reverse("project_list")
