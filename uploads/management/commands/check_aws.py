from django.conf import settings
from django.core.management.base import BaseCommand

from uploads import preflight

MARKS = {preflight.PASS: "PASS", preflight.FAIL: "FAIL", preflight.NOT_CHECKED: "N/A "}


class Command(BaseCommand):
    help = (
        "Check a live environment (AWS, or the local S3 stand-in) item by item: the bucket's "
        "configuration, the uploader role and the credentials it vends, Cognito, email and clocks. "
        "Prints a fix for each failure; exits 1 if anything failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email-to", metavar="ADDRESS", help="Also send a test email to this address.")
        parser.add_argument(
            "--only", action="append", metavar="CHECK", help="Run only this check (repeatable)."
        )

    def handle(self, *args, email_to: str | None = None, only: list[str] | None = None, **options):
        where = settings.AWS_ENDPOINT_URL or f"AWS ({settings.AWS_REGION})"
        self.stdout.write(
            f"Checking {where}, bucket {settings.UPLOAD_BUCKET}, role {settings.UPLOADER_ROLE_ARN}\n"
        )
        results = preflight.run(only=only, email_to=email_to)
        width = max((len(check.name) for check, _ in results), default=0)
        for check, finding in results:
            style = {preflight.PASS: self.style.SUCCESS, preflight.FAIL: self.style.ERROR}.get(
                finding.status, self.style.WARNING
            )
            self.stdout.write(f"{style(MARKS[finding.status])} {check.name:<{width}}  {finding.detail}")
            if finding.fix:
                self.stdout.write(f"     {'':<{width}}  fix: {finding.fix}")
        counts = {status: sum(f.status == status for _, f in results) for status in MARKS}
        self.stdout.write(
            f"\n{len(results)} checks: {counts[preflight.PASS]} passed, {counts[preflight.FAIL]} failed, "
            f"{counts[preflight.NOT_CHECKED]} not checked"
        )
        if counts[preflight.FAIL]:
            raise SystemExit(1)
