"""The preflight: checks that a live environment (real AWS, or moto here) is set up the way
the portal needs, each answering pass, fail (with the fix) or "not checked" (with why).
`manage.py check_aws` runs the checks named in settings.PREFLIGHT_CHECKS; a new check is one
`Check` subclass and one line there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

PASS = "pass"  # noqa: S105 (a status, not a password)
FAIL = "fail"
NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Finding:
    status: str
    detail: str
    fix: str = ""


def passed(detail: str) -> Finding:
    return Finding(PASS, detail)


def failed(detail: str, fix: str) -> Finding:
    return Finding(FAIL, detail, fix)


def not_checked(detail: str) -> Finding:
    return Finding(NOT_CHECKED, detail)


def on_local_stand_in() -> bool:
    """moto (or another S3 stand-in) answers instead of AWS: some rules cannot be proven."""
    return bool(settings.AWS_ENDPOINT_URL)


class Check:
    """One item of the preflight. `name` is what the report and `--only` use."""

    name: ClassVar[str]
    # What to do when the check raises instead of answering (S3 unreachable, access denied).
    fix_on_error: ClassVar[str] = "Check the portal's AWS credentials and AWS_ENDPOINT_URL/AWS_REGION."

    def __init__(self, **options: Any) -> None:
        self.options = options

    def check(self) -> Finding:
        raise NotImplementedError

    def run(self) -> Finding:
        try:
            return self.check()
        except Exception as exc:  # noqa: BLE001 (a check that cannot run is a failure to report, not a crash)
            return failed(f"the check could not run: {type(exc).__name__}: {exc}", self.fix_on_error)


def checks(**options: Any) -> list[Check]:
    return [import_string(path)(**options) for path in settings.PREFLIGHT_CHECKS]


def run(*, only: list[str] | None = None, **options: Any) -> list[tuple[Check, Finding]]:
    return [(c, c.run()) for c in checks(**options) if not only or c.name in only]
