"""Demo data for `make run`: one consultant, two organisations, customers, projects.
Idempotent: running it again resets the demo passwords and changes nothing else."""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization
from uploads.models import UploadProject

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105 - printed for the local demo only

# Sign-in settings per organisation: the Cognito IdP names and email domains accepted for
# SSO, and the IdP hint. The local IdP (accounts/local_idp/demo-accounts.json) asserts these.
SSO = {
    "acme": {"sso_providers": "AcmeAD", "email_domains": "acme.example", "idp_hint": "AcmeAD"},
    "globex": {"sso_providers": "GlobexOkta", "email_domains": "globex.example", "idp_hint": "GlobexOkta"},
}

ORGANIZATIONS = [
    (
        "Acme Manufacturing",
        "acme",
        [
            ("alice@acme.example", "Alice", Membership.Role.UPLOADER),
            ("victor@acme.example", "Victor", Membership.Role.VIEWER),
        ],
        [
            (
                "Oracle migration",
                "oracle-migration",
                "Upload the full Data Pump export (expdp) of the production schema.",
            )
        ],
    ),
    (
        "Globex Corporation",
        "globex",
        [
            ("bob@globex.example", "Bob", Membership.Role.UPLOADER),
        ],
        [("Annual audit", "annual-audit", "Upload the ledger exports for FY2026.")],
    ),
]


class Command(BaseCommand):
    help = "Create the demo consultant, organisations, customer users and projects."

    @transaction.atomic
    def handle(self, *args, **options):
        consultant = self._user("consultant@example.com", "Casey", staff=True)
        logins = [("consultant (staff, /admin/)", consultant.email)]
        for org_name, org_slug, members, projects in ORGANIZATIONS:
            org, created = Organization.objects.get_or_create(
                slug=org_slug, defaults={"name": org_name, **SSO[org_slug]}
            )
            if not created and not org.sso_providers:
                Organization.objects.filter(pk=org.pk).update(**SSO[org_slug])
            org.account_team.add(consultant)
            for email, first_name, role in members:
                user = self._user(email, first_name)
                Membership.objects.update_or_create(user=user, organization=org, defaults={"role": role})
                logins.append((f"{role} at {org_name}", email))
            for name, slug, instructions in projects:
                project, _ = UploadProject.objects.get_or_create(
                    organization=org,
                    slug=slug,
                    defaults={"name": name, "instructions": instructions, "created_by": consultant},
                )
                project.notify_staff.add(consultant)
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for label, email in logins:
            self.stdout.write(f"  {email:28} {label}")
        self.stdout.write(
            "Customers can also use 'Sign in with SSO' (local IdP: type the email as login, any password)."
            " The consultant must set up an authenticator app on first sign-in."
        )

    def _user(self, email: str, first_name: str, staff: bool = False) -> User:
        user, _ = User.objects.get_or_create(
            username=email, defaults={"email": email, "first_name": first_name, "is_staff": staff}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user
