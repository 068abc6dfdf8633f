"""The Celery app. Tasks live in each app's tasks.py; the database is the source of truth
and a queued task is only a trigger (see uploads.tasks): a periodic sweep re-queues work
the database says is unfinished, so a broker that lost its queue loses nothing."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged only after it ran, and a worker killed mid-task gives the
    # message back, so no verification is lost; tasks are idempotent for that reason.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # Results are never read: the outcome is in the database.
    task_ignore_result=True,
)


def _beat_schedule() -> dict:
    from django.conf import settings

    return {
        "sweep": {
            "task": "uploads.sweep",
            "schedule": float(settings.SWEEP_INTERVAL_SECONDS),
            # A sweep that waited longer than one interval is superseded by the next.
            "options": {"expires": float(settings.SWEEP_INTERVAL_SECONDS)},
        },
        "reconcile": {
            "task": "uploads.reconcile",
            "schedule": float(settings.RECONCILE_INTERVAL_SECONDS),
            "options": {"expires": float(settings.RECONCILE_INTERVAL_SECONDS)},
        },
        # Retention: due projects' files are deleted (and certified) within the hour.
        "apply-retention": {"task": "uploads.apply_retention", "schedule": crontab(minute=41)},
        # The audit chain is walked hourly and archived to S3 daily, so the log outlives
        # the database and an edit or a deleted tail is noticed.
        "audit-verify-chain": {"task": "audit.verify_chain", "schedule": crontab(minute=17)},
        "audit-archive-daily": {"task": "audit.archive_daily", "schedule": crontab(hour=0, minute=30)},
    }


app.conf.beat_schedule = _beat_schedule()


app.autodiscover_tasks()
