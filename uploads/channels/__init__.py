"""Notification channels: how one outbox message leaves the portal.

Each channel is one class in its own module, naming the `Notification.Kind`s it sends,
as healthchecks does with its transports. `settings.NOTIFICATION_CHANNELS` lists them; to add
Slack or Teams, write `uploads/channels/teams.py` with a `Channel` subclass and add its path
to the setting (and a `Notification.Kind` for it if it is a new kind of message).

A channel raises `Refused` when the message can never be sent (never retried) and `Failed`
when it may be worth retrying; any other exception is retried too."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from uploads.models import Notification, NotificationItem


class Refused(Exception):
    """The message may not be sent, now or later."""


class Failed(Exception):
    """Sending was tried and failed; `retry` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


class Channel:
    kinds: ClassVar[tuple[str, ...]] = ()

    def send(self, notification: Notification, items: list[NotificationItem]) -> None:
        raise NotImplementedError


@cache
def registry() -> dict[str, Channel]:
    by_kind: dict[str, Channel] = {}
    for path in settings.NOTIFICATION_CHANNELS:
        channel = import_string(path)()
        for kind in channel.kinds:
            if kind in by_kind:
                first, second = type(by_kind[kind]).__name__, type(channel).__name__
                raise ValueError(f"Two channels send {str(kind)!r}: {first} and {second}")
            by_kind[kind] = channel
    return by_kind


def for_kind(kind: str) -> Channel:
    try:
        return registry()[kind]
    except KeyError:
        raise Refused(f"No channel sends {str(kind)!r} notifications.") from None


def _forget(*, setting: str, **kwargs: object) -> None:
    if setting == "NOTIFICATION_CHANNELS":
        registry.cache_clear()


setting_changed.connect(_forget)
