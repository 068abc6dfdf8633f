"""The rules every lifecycle step applies: who may upload, the part plan S3's limits allow,
and what well-formed checksums look like."""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from django.conf import settings

from uploads import s3
from uploads.models import Upload, UploadProject
from uploads.refusals import UploadRefused, refuse
from uploads.tenancy import Tenancy

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def checked_sha256(value: str | None, *, user, target) -> str:
    """A whole-file SHA-256 as the customer gave it, lower-cased; '' when none was given."""
    sha = (value or "").lower()
    if sha and not SHA256_RE.fullmatch(sha):
        refuse(
            "invalid_checksum",
            "The SHA-256 must be 64 hexadecimal characters.",
            400,
            user=user,
            target=target,
        )
    return sha


def require_uploader(user, project: UploadProject) -> None:
    if not Tenancy(user).can_upload_to(project):
        refuse(
            "not_allowed",
            "Your role in this organisation lets you see uploads but not send files.",
            403,
            user=user,
            target=project,
        )


def require_own_upload(user, upload: Upload, verb: str) -> None:
    """Only the uploader who started an upload may go on with it (or cancel it)."""
    require_uploader(user, upload.project)
    if upload.uploaded_by_id != user.pk:
        refuse(
            "not_your_upload",
            f"Only the person who started this upload can {verb} it.",
            403,
            user=user,
            target=upload,
        )


def require_own_upload_in_open_project(user, upload: Upload, verb: str) -> None:
    """As require_own_upload, and only while its project lets started uploads go on."""
    require_own_upload(user, upload, verb)
    if not upload.project.lets_started_uploads_continue():
        refuse(
            "project_closed",
            "This project is closed or past its deadline; uploads to it have stopped.",
            user=user,
            target=upload,
        )


def require_active(user, upload: Upload, message: str) -> None:
    """Credentials and progress are for uploads that may still send parts."""
    if upload.status not in Upload.ACTIVE:
        refuse("upload_not_active", message, user=user, target=upload, upload_status=upload.status)


def plan_parts(size: int) -> tuple[int, int]:
    """(part_size, part_count): at least the minimum part size, large enough that at most
    10,000 parts cover the file, rounded up to the rounding unit."""
    unit = settings.UPLOAD_PART_SIZE_UNIT
    needed = math.ceil(size / s3.MAX_PARTS)
    part_size = max(settings.UPLOAD_MIN_PART_SIZE, math.ceil(needed / unit) * unit)
    if part_size > s3.MAX_PART_SIZE:
        raise UploadRefused("file_too_large", "The file is larger than S3 can store in one object.", 400)
    return part_size, max(1, math.ceil(size / part_size))


def expected_part_sizes(upload: Upload) -> list[int]:
    last = upload.size - (upload.part_count - 1) * upload.part_size
    return [upload.part_size] * (upload.part_count - 1) + [last]


def describe_mismatch(upload: Upload, parts: list[s3.Part]) -> str:
    """How the parts storage holds differ from the plan, in the customer's words ('' if not)."""
    expected = expected_part_sizes(upload)
    have = {p.number: p for p in parts}
    problems = []
    missing = [n for n in range(1, upload.part_count + 1) if n not in have]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        problems.append(f"{len(missing)} part(s) missing ({shown})")
    extra = sorted(n for n in have if n > upload.part_count)
    if extra:
        problems.append(f"unexpected part(s) {', '.join(map(str, extra[:10]))}")
    wrong = [
        f"part {n} is {have[n].size:,} bytes, expected {expected[n - 1]:,}"
        for n in sorted(have)
        if n <= upload.part_count and have[n].size != expected[n - 1]
    ]
    problems.extend(wrong[:5])
    total = sum(p.size for p in parts)
    if total > upload.size:
        problems.append(f"{total:,} bytes received but the file has {upload.size:,}")
    return "; ".join(problems)


def extension_allowed(project: UploadProject, name: str) -> bool:
    allowed = project.extension_list
    lower = name.lower()
    return not allowed or any(lower.endswith("." + ext) for ext in allowed)


def valid_crc64nvme(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 12:
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == 8
    except (binascii.Error, ValueError):
        return False
