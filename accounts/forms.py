"""Forms that change how allauth behaves, plugged in through MFA_FORMS."""

from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal import auth
from django import forms


class StableActivateTOTPForm(ActivateTOTPForm):
    """TOTP set-up whose secret stays the same across loads of the page until it is activated.

    allauth draws a new secret on every GET: a second load (a reload, a second tab, a page
    restored from history) silently replaces the secret the person has just scanned, and every
    code they type is then refused. The pending secret lives in the session only, and allauth
    drops it once the authenticator is activated."""

    def __init__(self, *args, **kwargs) -> None:
        self.user = kwargs.pop("user")
        # Skips ActivateTOTPForm.__init__, whose only other work is drawing a new secret.
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = auth.get_totp_secret(regenerate=False)
