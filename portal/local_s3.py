"""The embedded stack's S3: moto's server, patched so a big object costs its size once.

moto 5.2.5 keeps every object and part in a SpooledTemporaryFile, which spills to disk and
would be fine, but three of its code paths handle a whole object at once:

- CompleteMultipartUpload joins every part into one bytearray (and a full-object checksum
  into a second one), then writes it to a new file: about 3x the object in memory and 2x on
  disk, because the completed key keeps its parts too.
- GetObject reads the whole object into memory per request, a Range request included.
- ListObjectVersions deep-copies every version, and each copy writes its body to a new file.

Here the completed object *is* its parts, read in sequence (no copy at all); GetObject streams
the requested bytes in chunks; and the copies a listing makes share their original's bytes.
Everything else is moto as shipped. `make run` (portal/bin/local-s3) and the tests
(conftest.MotoServer) both start this module, so what the tests check is what runs.
Run: python -m portal.local_s3 -H 127.0.0.1 -p 5000 (moto_server's own arguments).
"""

from __future__ import annotations

import bisect
import codecs
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from moto.s3 import models, responses
from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
from moto.s3.models import FakeKey, FakeMultipart
from moto.s3.utils import compute_checksum

CHUNK = 8 * 1024 * 1024


class PartChain:
    """A read-only file over the parts of a completed upload, in order.

    Stands where a FakeKey keeps its SpooledTemporaryFile, so the object takes no space
    beyond its parts. Each read takes the part's own lock: GetObject with a part number
    reads the same part files through the part keys."""

    def __init__(self, parts: list[FakeKey]):
        self._parts = parts
        self._starts: list[int] = []
        total = 0
        for part in parts:
            self._starts.append(total)
            total += part.contentsize
        self.size = total
        self._pos = 0
        self.closed = False

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        stop = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        out = bytearray()
        while self._pos < stop:
            i = bisect.bisect_right(self._starts, self._pos) - 1
            part = self._parts[i]
            offset = self._pos - self._starts[i]
            want = min(stop - self._pos, part.contentsize - offset)
            with part.lock:
                part._value_buffer.seek(offset)
                block = part._value_buffer.read(want)
            if not block:
                break
            out += block
            self._pos += len(block)
        return bytes(out)

    def truncate(self, size: int | None = None) -> int:
        raise OSError("a completed multipart object is read-only")

    def write(self, data: bytes) -> int:
        raise OSError("a completed multipart object is read-only")

    def close(self) -> None:
        # The parts belong to the upload (FakeKey.multipart), which disposes of them.
        self.closed = True


class Joined:
    """CompleteMultipartUpload's result: the parts, handed to FakeKey instead of bytes."""

    def __init__(self, parts: list[FakeKey]):
        self.parts = parts


class ObjectBody:
    """The bytes [start, stop) of a key, read in chunks as the response is sent.

    Looks enough like bytes for moto's Range handling: len() and slicing."""

    def __init__(self, key: FakeKey, start: int = 0, stop: int | None = None):
        self.key = key
        self.start = start
        self.stop = key.contentsize if stop is None else stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __getitem__(self, item: slice) -> ObjectBody:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("ObjectBody supports contiguous slices only")
        begin, end, _ = item.indices(len(self))
        return ObjectBody(self.key, self.start + begin, self.start + max(begin, end))

    def __iter__(self) -> Iterator[bytes]:
        pos = self.start
        while pos < self.stop:
            with self.key.lock:
                self.key._value_buffer.seek(pos)
                block = self.key._value_buffer.read(min(CHUNK, self.stop - pos))
            if not block:
                return
            pos += len(block)
            yield block


class _StreamingChecksum:
    """moto's MultipartChecksumBuilder, fed part by part instead of the whole object."""

    _FULL = {"CRC64NVME", "CRC32", "CRC32C"}

    def __init__(self, algorithm: str | None, kind: str | None):
        self.algorithm = algorithm or "CRC64NVME"
        self.kind = kind or ("FULL_OBJECT" if self.algorithm == "CRC64NVME" else "COMPOSITE")
        self.count = 0
        self._composite = bytearray()
        self._crc = 0

    def add(self, part: FakeKey) -> None:
        self.count += 1
        if self.kind == "COMPOSITE":
            # One part at a time in memory: parts are at most 5 GiB and usually megabytes.
            self._composite += compute_checksum(_read_all(part), self.algorithm, encode_base64=False)
            return
        if self.algorithm not in self._FULL:
            raise MalformedXML
        for block in _blocks(part):
            self._crc = _crc(self.algorithm, block, self._crc)

    def build(self) -> tuple[str, str, int]:
        import base64

        if self.kind == "COMPOSITE":
            value = compute_checksum(bytes(self._composite), self.algorithm).decode()
            return self.kind, value, self.count
        width = 8 if self.algorithm == "CRC64NVME" else 4
        return self.kind, base64.b64encode(self._crc.to_bytes(width, "big")).decode(), 1


def _crc(algorithm: str, block: bytes, previous: int) -> int:
    from awscrt import checksums

    if algorithm == "CRC64NVME":
        return checksums.crc64nvme(block, previous)
    if algorithm == "CRC32C":
        return checksums.crc32c(block, previous)
    return checksums.crc32(block, previous)


def _blocks(part: FakeKey) -> Iterator[bytes]:
    offset = 0
    while True:
        with part.lock:
            part._value_buffer.seek(offset)
            block = part._value_buffer.read(CHUNK)
        if not block:
            return
        offset += len(block)
        yield block


def _read_all(part: FakeKey) -> bytes:
    return b"".join(_blocks(part))


def _complete(self: FakeMultipart, body: Iterator[tuple[int, str]]) -> tuple[Any, str, Any]:
    # The same checks, in the same order, as moto's own complete().
    decode_hex = codecs.getdecoder("hex_codec")
    chosen: list[FakeKey] = []
    md5s = bytearray()
    last = None
    for pn, etag in body:
        part = self.parts.get(pn)
        part_etag = None
        if part is not None:
            part_etag = part.etag.replace('"', "")
            etag = etag.replace('"', "")
        if part is None or part_etag != etag:
            raise InvalidPart()
        if last is not None and last.contentsize < models.S3_UPLOAD_PART_MIN_SIZE:
            raise EntityTooSmall()
        md5s.extend(decode_hex(part_etag)[0])  # type: ignore[arg-type]
        chosen.append(part)
        last = part
    if not chosen:
        raise MalformedXML
    checksum = _StreamingChecksum(
        self.metadata.get("x-amz-checksum-algorithm"), self.metadata.get("x-amz-checksum-type")
    )
    for part in chosen:
        checksum.add(part)
    # Parts left out of the list are no longer needed; the chosen ones now are the object.
    for number in [n for n, p in self.parts.items() if all(p is not c for c in chosen)]:
        self.parts.pop(number).dispose()
    # moto disposes of a completed upload's parts when it drops the upload record; these
    # parts are now the object's bytes, so the object disposes of them (_dispose_own).
    self._is_object = True
    full_etag = models.md5_hash()
    full_etag.update(bytes(md5s))
    return Joined(chosen), f"{full_etag.hexdigest()}-{len(chosen)}", checksum.build()


_value = FakeKey.value  # moto's property


def _set_value(self: FakeKey, new_value: Any) -> None:
    if isinstance(new_value, Joined):
        self._value_buffer.close()
        chain = PartChain(new_value.parts)
        self._value_buffer = chain
        self.contentsize = chain.size
        return
    if isinstance(self._value_buffer, PartChain):
        self._value_buffer = tempfile.SpooledTemporaryFile(self._max_buffer_size)
    _value.fset(self, new_value)


_streaming = threading.local()


def _get_value(self: FakeKey) -> Any:
    if getattr(_streaming, "active", False):
        return ObjectBody(self)
    return _value.fget(self)


_get_object = responses.S3Response.get_object


def _streaming_get_object(self: responses.S3Response) -> Any:
    # moto's get_object ends with `return ..., key.value`: let that be a streamed body.
    _streaming.active = True
    try:
        return _get_object(self)
    finally:
        _streaming.active = False


def _deepcopy(self: FakeKey, memo: dict[int, Any]) -> FakeKey:
    # ListObjectVersions copies each version to annotate it; the bytes are never changed,
    # so the copy reads its original's, and disposing of the copy leaves them alone.
    clone = FakeKey.__new__(FakeKey)
    clone.__dict__.update(self.__dict__)
    clone._borrowed = True
    memo[id(self)] = clone
    return clone


_dispose = FakeKey.dispose


def _dispose_own(self: FakeKey, garbage: bool = False) -> None:
    if getattr(self, "_borrowed", False):
        self.disposed = True
        return
    if self.multipart and not isinstance(self._value_buffer, PartChain):
        # CopyObject gives the copy its source's upload record; the parts are the
        # source's bytes, so only the key that reads from them may dispose of them.
        self.multipart = None
    if self.multipart and isinstance(self._value_buffer, PartChain):
        for part in self.multipart.parts.values():
            part.dispose()
    _dispose(self, garbage)


_dispose_upload = FakeMultipart.dispose


def _dispose_upload_unless_object(self: FakeMultipart) -> None:
    if getattr(self, "_is_object", False):
        return
    _dispose_upload(self)


def held_on_disk(pid: int) -> int:
    """Bytes a running local S3 holds in body files: its open, deleted temporary files.
    What the tests and bench/local_s3_big_upload.py measure as its disk use."""
    total = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).endswith("(deleted)"):
                total += fd.stat().st_size
        except OSError:
            continue
    return total


def install() -> None:
    """Apply the patches to moto in this process (idempotent)."""
    if getattr(FakeKey, "_portal_streaming", False):
        return
    FakeMultipart.complete = _complete
    FakeKey.value = property(_get_value, _set_value)
    FakeKey.__deepcopy__ = _deepcopy
    FakeKey.dispose = _dispose_own
    FakeMultipart.dispose = _dispose_upload_unless_object
    responses.S3Response.get_object = _streaming_get_object
    FakeKey._portal_streaming = True


def main(argv: list[str] | None = None) -> None:
    install()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
