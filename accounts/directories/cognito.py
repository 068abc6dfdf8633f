"""Amazon Cognito as the customer directory: the user pool holds customers' passwords and
MFA, and customers sign in through its managed login ("Sign in with SSO").

- An invitation creates the pool user (AdminCreateUser, the address as username, marked
  verified). Cognito emails its own invitation when COGNITO_SENDS_INVITATION is true;
  otherwise it stays silent and the portal's email leads to the SSO button. A user already
  in the pool (a re-invitation) is fine.
- Deactivating a customer in admin disables the pool user; activating enables it again.
- Users of the pool itself (identity provider COGNITO) are accepted for the organisation
  that invited their address, whatever its SSO lists say: the portal made that user."""

from django.conf import settings

import audit
from accounts import cognito
from accounts.directories import Directory, DirectoryError
from accounts.sso import COGNITO_NATIVE


class CognitoDirectory(Directory):
    name = "cognito"
    customer_passwords = False
    external = True

    def user_invited(self, invitation, *, actor) -> bool:
        send = settings.COGNITO_SENDS_INVITATION
        where = {"target": invitation, "organization": invitation.organization}
        try:
            created = cognito.create_user(invitation.email, send_invitation=send)
        except cognito.CognitoError as exc:
            email = invitation.email
            raise self._failed("create the user", "create_user", exc, email, actor, where) from None
        audit.record(
            "directory.user_created",
            actor=actor,
            email=invitation.email,
            directory=self.name,
            existed=not created,
            directory_email=send and created,
            **where,
        )
        return send and created

    def user_disabled(self, user, *, actor) -> None:
        self._set_enabled(user, False, actor)

    def user_enabled(self, user, *, actor) -> None:
        self._set_enabled(user, True, actor)

    def vouches_for(self, providers: set[str]) -> bool:
        return providers == {COGNITO_NATIVE}

    def _set_enabled(self, user, enabled: bool, actor) -> None:
        operation = "enable_user" if enabled else "disable_user"
        email = user.email or user.get_username()
        try:
            existed = True
            if cognito.get_user(email) is None:
                # Not in the pool (an account from before the directory): nothing to change.
                existed = False
            elif enabled:
                cognito.enable_user(email)
            else:
                cognito.disable_user(email)
        except cognito.CognitoError as exc:
            verb = "enable" if enabled else "disable"
            raise self._failed(f"{verb} the user", operation, exc, email, actor, {"target": user}) from None
        audit.record(
            "directory.user_enabled" if enabled else "directory.user_disabled",
            actor=actor,
            target=user,
            email=email,
            directory=self.name,
            existed=existed,
        )

    def _failed(self, what, operation, exc, email, actor, where) -> DirectoryError:
        audit.record(
            "directory.failed",
            actor=actor,
            email=email,
            directory=self.name,
            operation=operation,
            code=exc.code,
            **where,
        )
        reason = "it could not be reached" if exc.code == "Unavailable" else f"it answered {exc.code}"
        return DirectoryError(f"Cognito did not {what} {email}: {reason}.", code=exc.code)
