"""Admin building blocks shared by the apps."""

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Staff read these rows; only the portal writes them (audit events, outbox, progress)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
