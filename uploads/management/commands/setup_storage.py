from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from uploads import s3
from uploads.bucket import setup_storage


class Command(BaseCommand):
    help = (
        "Create the upload bucket or bring it to the configuration the portal needs "
        "(versioning, CORS, lifecycle, encryption, public access block, bucket policy). "
        "Idempotent: prints what it changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--create-local-role",
            action="store_true",
            help="Also create the uploader IAM role (for moto; in AWS an administrator creates it).",
        )

    def handle(self, *args, create_local_role: bool = False, **options):
        try:
            changes = setup_storage(create_local_role=create_local_role)
        except s3.StorageError as exc:
            raise CommandError(f"S3 refused or did not answer: {exc}") from None
        where = settings.AWS_ENDPOINT_URL or "AWS"
        if not changes:
            self.stdout.write(f"Bucket {settings.UPLOAD_BUCKET} at {where} already matches; nothing changed.")
        for change in changes:
            self.stdout.write(f"{settings.UPLOAD_BUCKET}: {change}")
