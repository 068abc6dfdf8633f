"""The embedded job queue: kombu's filesystem transport, made to survive a laptop.

Two faults of the stock transport stopped `make run` here: a message is written in place,
so a full disk (or a reader racing the writer) leaves a torn or empty file; and the reader
decodes it inside the transport, so one such file crashed the worker at every start. Here
a message is written beside the queue and renamed in (a reader sees all of it or nothing),
and a file that is not a whole kombu message is moved to `broken_folder` with a log line.
Production uses Redis; this module is only loaded for `filesystem://`."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import uuid
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

# A message still being written is named with this suffix, which no queue matches.
PARTIAL = ".part"
# A partial file this old was left by a process that died while writing it.
STALE_PARTIAL_SECONDS = 600


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:
        name = f"{int(round(time.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, "." + name + PARTIAL)
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}: {exc}") from exc

    def _get(self, queue: str) -> dict[str, Any]:
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.endswith(PARTIAL):
                self._drop_if_stale(filename)
                continue
            if filename.partition(".")[2] != wanted:
                continue
            path = os.path.join(self.data_folder_in, filename)
            claimed = path + ".claimed"
            try:
                # Only one worker process wins the rename; the others move on.
                os.replace(path, claimed)
                with open(claimed, "rb") as f:
                    payload = f.read()
            except OSError:
                continue
            message = _decode(payload)
            if message is None:
                self._set_aside(claimed, filename, len(payload))
                continue
            os.remove(claimed)
            return message
        raise Empty()

    def _set_aside(self, path: str, filename: str, size: int) -> None:
        folder = self.transport_options.get("broken_folder") or self.data_folder_in
        with contextlib.suppress(OSError):
            os.makedirs(folder, exist_ok=True)
            shutil.move(path, os.path.join(folder, filename + ".broken"))
        log.error("Set aside a queue file that is not a whole message (%s, %d bytes)", filename, size)

    def _drop_if_stale(self, filename: str) -> None:
        path = os.path.join(self.data_folder_in, filename)
        with contextlib.suppress(OSError):
            if time.time() - os.path.getmtime(path) > STALE_PARTIAL_SECONDS:
                os.remove(path)


def _decode(payload: bytes) -> dict[str, Any] | None:
    """The kombu envelope in a queue file, or None for an empty, torn or foreign file."""
    try:
        message = loads(bytes_to_str(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("properties"), dict):
        return None
    if "body" not in message or "delivery_tag" not in message["properties"]:
        return None
    return message


class Transport(filesystem.Transport):
    Channel = Channel
