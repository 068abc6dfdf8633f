"""Which events a consultant may see in the audit admin, told to audit by the apps that own
tenants: audit imports none of them. accounts provides the organisations and people, uploads
the projects (each in its AppConfig.ready)."""

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

_providers: dict[str, Callable[..., Any]] = {}


def provide(**providers: Callable[..., Any]) -> None:
    """organizations(user) -> QuerySet; people(user) -> ids of their customers;
    members(organization_id) -> Q over users; projects(user) -> QuerySet."""
    _providers.update(providers)


def _get(name: str) -> Callable[..., Any]:
    try:
        return _providers[name]
    except KeyError:
        raise ImproperlyConfigured(f"No app provides the audit scope's {name!r}") from None


def organizations(user: Any) -> QuerySet:
    return _get("organizations")(user)


def people(user: Any) -> Iterable[int]:
    return _get("people")(user)


def members(organization_id: int | str) -> Q:
    return _get("members")(organization_id)


def projects(user: Any) -> QuerySet:
    return _get("projects")(user)
