"""Clocks: SigV4 signatures and credential expiry assume the portal, S3 and browsers agree
on the time."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from uploads import s3
from uploads.preflight import Check, Finding, failed, not_checked, on_local_stand_in, passed

# S3 refuses requests signed more than 15 minutes off; stay far inside that.
MAX_SKEW_SECONDS = 60


def local_now() -> datetime:
    return timezone.now()


class ClockSkew(Check):
    name = "clock"
    fix_on_error = "S3 did not answer HeadBucket; see bucket-exists."

    def check(self) -> Finding:
        before = local_now()
        theirs = s3.server_time()
        after = local_now()
        if theirs is None:
            return not_checked("S3's answer carried no Date header to compare with")
        mine = before + (after - before) / 2
        skew = (mine - theirs).total_seconds()
        # The Date header has whole seconds: allow one more.
        if abs(skew) <= MAX_SKEW_SECONDS + 1:
            note = " (the local S3 runs on this machine's clock)" if on_local_stand_in() else ""
            return passed(f"the portal's clock is {abs(skew):.0f} s from S3's{note}")
        return failed(
            f"the portal's clock is {skew:+.0f} s from S3's: signatures and credential lifetimes "
            "will be wrong",
            "Synchronise the clock (chrony with the Amazon Time Sync Service, 169.254.169.123).",
        )
