"""The default directory: the portal itself (allauth local passwords, TOTP by
accounts.mfa). Invitations carry a link to set a password; nothing is told elsewhere."""

from accounts.directories import Directory


class LocalDirectory(Directory):
    name = "local"
