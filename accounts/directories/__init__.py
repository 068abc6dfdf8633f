"""Who holds customers' passwords and MFA: the customer directory.

A directory is a class. The portal asks the one named by settings.CUSTOMER_DIRECTORY (a
built-in name below, or the dotted path of a `Directory` subclass) at the moments a customer
account changes: an invitation is sent, a customer is disabled or enabled in admin. A new
directory is a new module with a subclass, not a new branch in the callers.

- `local` (the default): the portal keeps customers' passwords (allauth); nothing to tell.
- `cognito`: the Cognito user pool keeps them. Invitations create the pool user, disabling a
  customer disables it there, and customers sign in through Cognito's managed login only.

A directory that cannot do what is asked raises `DirectoryError` with a message for staff;
the caller keeps what it saved and tells staff how to try again."""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils.module_loading import import_string

BUILT_IN = {
    "local": "accounts.directories.local.LocalDirectory",
    "cognito": "accounts.directories.cognito.CognitoDirectory",
}


class DirectoryError(Exception):
    """The directory refused or could not be reached; str() is a message for staff."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


class Directory:
    name = ""
    # Customers sign in with a password the portal keeps (False: only through SSO).
    customer_passwords = True
    # Accounts also live outside the portal, so admin offers to push their state again.
    external = False

    def user_invited(self, invitation, *, actor) -> bool:
        """An invitation was created or resent. True if the directory emailed the invitee
        itself (the portal then sends no email of its own)."""
        return False

    def user_disabled(self, user, *, actor) -> None:
        """A customer was deactivated in admin."""

    def user_enabled(self, user, *, actor) -> None:
        """A customer was activated again in admin."""

    def vouches_for(self, providers: set[str]) -> bool:
        """Whether an SSO identity from these identity providers (accounts.sso) is one the
        directory itself made for an invited address, so the organisation's own IdP and
        domain lists need not name it."""
        return False


def current() -> Directory:
    name = settings.CUSTOMER_DIRECTORY
    return _load(BUILT_IN.get(name, name))


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Directory:
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, Directory)):
        raise TypeError(f"CUSTOMER_DIRECTORY {path!r} is not a Directory subclass")
    return cls()
