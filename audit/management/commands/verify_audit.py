"""manage.py verify_audit: walk the audit hash chain and name the first broken event."""

from django.core.management.base import BaseCommand, CommandError

from audit import archive
from audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Check every audit event's hash and link, the chain head, and the latest head "
        "exported to S3. Exits non-zero and names the first broken event on failure."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-archive",
            action="store_true",
            help="Do not compare with the S3 archive (e.g. S3 unreachable). Weaker: a "
            "database owner can then recompute the whole chain unnoticed.",
        )

    def handle(self, *args, no_archive: bool = False, **options):
        archived = None
        if not no_archive:
            try:
                archived = archive.latest_archived_head()
            except Exception as exc:
                raise CommandError(
                    f"Cannot read the S3 archive ({exc}). Fix access, or run with --no-archive "
                    "to check the database alone."
                ) from exc
            if archived is None:
                self.stderr.write("No chain head archived in S3 yet: checking the database alone.")
        result = verify_chain(archived_head=archived)
        if not result.ok:
            raise CommandError(str(result))
        self.stdout.write(str(result))
