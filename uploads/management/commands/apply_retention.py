from django.core.management.base import BaseCommand

from uploads import retention


class Command(BaseCommand):
    help = (
        "Delete every file of each closed project whose retention period (or deletion date) has "
        "come, unless on legal hold, and record a deletion certificate for each. What the hourly "
        "Celery task does; safe to run again."
    )

    def handle(self, *args, **options):
        done = retention.apply_retention()
        self.stdout.write(f"{done} project(s) emptied and certified.")
