"""Run background housekeeping now, without waiting for beat (ops, cron, tests)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Reconcile uploads with S3 and re-queue unfinished verifications and notifications."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sweep-only", action="store_true", help="Only re-queue; skip S3 reconciliation."
        )

    def handle(self, *args, sweep_only: bool = False, **options):
        from uploads import tasks

        if not sweep_only:
            self.stdout.write(f"reconcile: {tasks.reconcile()}")
        self.stdout.write(f"sweep: {tasks.sweep()}")
