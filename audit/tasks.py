"""Periodic audit tasks (beat schedule in docs/audit.md)."""

import logging

from celery import shared_task

import audit
from audit import archive
from audit.alerts import alert_broken_chain
from audit.verify import verify_chain

logger = logging.getLogger("audit")


def run_verification(*, use_archive: bool = True) -> dict:
    archived = None
    if use_archive:
        try:
            archived = archive.latest_archived_head()
        except Exception:
            # S3 down must not stop the database check; the next run compares again.
            logger.exception("audit archive unreachable: verifying the database alone")
    result = verify_chain(archived_head=archived)
    if not result.ok:
        logger.error("audit chain broken: %s", result)
        notified = alert_broken_chain(result)
        audit.record(
            "audit.chain.broken",
            actor_label="system",
            broken_seq=result.broken_seq,
            broken_id=result.broken_id,
            reason=result.reason,
        )
        return {"ok": False, "detail": str(result), "notified": notified}
    return {"ok": True, "detail": str(result), "checked": result.checked}


@shared_task(name="audit.verify_chain")
def verify_chain_task() -> dict:
    return run_verification()


@shared_task(name="audit.archive_daily")
def archive_daily_task() -> dict:
    outcome = archive.archive_pending()
    return {"days": sorted(outcome["days"]), "head_key": outcome["head_key"]}
