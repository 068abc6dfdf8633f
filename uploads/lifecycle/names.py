"""File names and storage keys. A customer's name and folder path are checked here, and
turned into a key that is safe inside an IAM policy resource."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime

from uploads.models import Upload, UploadProject
from uploads.refusals import UploadRefused

# Characters allowed in object keys: nothing that is a wildcard or variable in an IAM
# policy resource (`*`, `?`, `${`) and nothing a client must percent-encode to sign.
SAFE_KEY_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
SAFE_SEGMENT_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# The readable tail of a key; the rest is org/project/upload-id. Short keys keep the
# session policy far below STS's 2,048-character limit.
MAX_SAFE_PATH = 200
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
WINDOWS_RESERVED = (
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
CONTENT_TYPE_RE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
)
# Database dumps and backups whose extensions browsers map to unrelated types (".dmp" is a
# tcpdump capture to most of them): stored as plain bytes.
OCTET_STREAM_EXTENSIONS = {"dmp", "dump", "bak", "exp", "dbf", "ora", "trc", "bin", "ckp", "arc"}
SOURCE_IDENTITY_RE = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)


def _check_segment(segment: str, what: str) -> None:
    if segment in ("", ".", ".."):
        raise UploadRefused("invalid_name", f"The {what} has an empty, '.' or '..' part.", 400)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in segment):
        raise UploadRefused("invalid_name", f"The {what} contains control or invisible characters.", 400)
    if "\\" in segment:
        raise UploadRefused("invalid_name", f"The {what} contains a backslash.", 400)
    if len(segment.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadRefused("name_too_long", f"Each part of the {what} must be at most 255 bytes.", 400)
    stem = segment.split(".", 1)[0].strip().lower()
    if stem in WINDOWS_RESERVED:
        raise UploadRefused("reserved_name", f"'{segment}' is a reserved file name; rename it first.", 400)
    if segment != segment.strip() or segment.endswith("."):
        raise UploadRefused(
            "invalid_name", f"The {what} has a part starting or ending with a space or dot.", 400
        )


def validate_name(name: str, relative_path: str) -> list[str]:
    """The path's segments (just [name] without a path), or UploadRefused(400)."""
    if not isinstance(name, str) or not name:
        raise UploadRefused("invalid_name", "The file needs a name.", 400)
    if "/" in name:
        raise UploadRefused("invalid_name", "A file name cannot contain '/'.", 400)
    _check_segment(name, "file name")
    if not relative_path:
        return [name]
    if len(relative_path.encode("utf-8")) > MAX_PATH_BYTES:
        raise UploadRefused("name_too_long", "The folder path must be at most 1,024 bytes.", 400)
    if relative_path.startswith("/"):
        raise UploadRefused("invalid_name", "The folder path cannot start with '/'.", 400)
    segments = relative_path.split("/")
    for segment in segments:
        _check_segment(segment, "folder path")
    if segments[-1] != name:
        raise UploadRefused("invalid_name", "The folder path must end with the file name.", 400)
    return segments


# Letters that Unicode does not decompose into a base letter plus accents, written as a
# reader of the language would spell them in ASCII.
TRANSLITERATIONS = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ł": "l", "Ł": "L",
        "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "ng", "Ŋ": "NG", "ŧ": "t", "Ŧ": "T",
    }
)  # fmt: skip


def _safe_segment(segment: str) -> str:
    # Fold accents to ASCII where Unicode allows; everything else becomes "_".
    ascii_form = (
        unicodedata.normalize("NFKD", segment.translate(TRANSLITERATIONS)).encode("ascii", "ignore").decode()
    )
    safe = SAFE_SEGMENT_CHARS.sub("_", ascii_form)
    safe = re.sub(r"_+\.", ".", safe).strip("._") or "file"
    return safe[:80]


def safe_relative_path(segments: list[str]) -> str:
    """The readable key tail: only [A-Za-z0-9._/-], no '.'/'..' segments, short. The
    original name and path stay in the database; the key only has to be recognisable."""
    safe = [_safe_segment(s) for s in segments]
    name = safe[-1]
    folders = safe[:-1]
    path = "/".join([*folders, name])
    while len(path) > MAX_SAFE_PATH and folders:
        folders.pop(0)
        path = "/".join([*folders, name])
    return path[-MAX_SAFE_PATH:].lstrip("/.") or "file"


def object_key(project: UploadProject, upload_id: uuid.UUID, segments: list[str]) -> str:
    key = f"{project.key_prefix}{upload_id}/{safe_relative_path(segments)}"
    assert_safe_key(key)
    return key


def assert_safe_key(key: str) -> None:
    """Keys go into IAM policy resources, where `*`, `?` and `${` are live syntax."""
    if not SAFE_KEY_RE.fullmatch(key) or any(seg in ("", ".", "..") for seg in key.split("/")):
        raise ValueError(f"unsafe object key {key!r}")
    if len(key.encode()) > 1024:
        raise ValueError("object key too long")


def normal_content_type(name: str, content_type: str) -> str:
    """The type stored with the object: the browser's when it is a well-formed type, bytes for
    dump and backup files, else none (storage then says application/octet-stream)."""
    if content_type and not CONTENT_TYPE_RE.fullmatch(content_type):
        content_type = ""
    if name.rsplit(".", 1)[-1].lower() in OCTET_STREAM_EXTENSIONS:
        content_type = "application/octet-stream"
    return content_type


def client_modified_at(last_modified: int | None) -> datetime | None:
    """The file's modification time as the browser gave it (milliseconds), when plausible."""
    if isinstance(last_modified, int) and 0 <= last_modified < 32503680000000:
        return datetime.fromtimestamp(last_modified / 1000, tz=UTC)
    return None


def session_name(user, upload: Upload) -> str:
    return f"u{user.pk}-{upload.pk}"


def source_identity(user) -> str:
    """What CloudTrail shows for every request made with the credentials: the email when
    STS accepts it, else a stable id."""
    email = (getattr(user, "email", "") or "").strip()
    if SOURCE_IDENTITY_RE.fullmatch(email):
        return email
    return f"portal-user-{user.pk}"
