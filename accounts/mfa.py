"""Who must use a second factor: every consultant, and customers of organisations that
require it."""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.models import User

from accounts.models import Membership


def mfa_required_for(user: User) -> bool:
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, organization__mfa_required=True, organization__is_active=True
    ).exists()


def lacks_required_mfa(user: User) -> bool:
    return mfa_required_for(user) and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
