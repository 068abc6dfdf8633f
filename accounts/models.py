import re

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.validators import validate_key_slug


class Organization(models.Model):
    """A customer organisation: the tenant boundary for every customer-facing query."""

    name = models.CharField(max_length=200)
    slug = models.CharField(
        max_length=50,
        unique=True,
        validators=[validate_key_slug],
        help_text="First segment of every storage key. Cannot change once a project exists.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive organisations' customers see no projects."
    )
    account_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="team_organizations",
        limit_choices_to={"is_staff": True},
        help_text="Consultants who manage this organisation.",
    )
    mfa_required = models.BooleanField(
        default=False,
        help_text="Customers of this organisation must set up an authenticator app before "
        "they see any project.",
    )
    idp_hint = models.CharField(
        "IdP hint",
        max_length=128,
        blank=True,
        help_text="Name of the organisation's identity provider in the Cognito user pool. "
        "Passed to Cognito as identity_provider so its users go straight to their corporate "
        "sign-in.",
    )
    sso_providers = models.CharField(
        "accepted SSO identity providers",
        max_length=500,
        blank=True,
        help_text="Comma-separated Cognito identity provider names (identities[].providerName "
        "in the token) whose users may sign in for this organisation. COGNITO means users "
        "of the user pool itself. Empty: no SSO.",
    )
    email_domains = models.CharField(
        "accepted email domains",
        max_length=500,
        blank=True,
        help_text="Comma-separated email domains (e.g. acme.example) an SSO identity must "
        "have to be linked to this organisation. Empty: no SSO.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "organisation"

    def audit_scope(self) -> tuple["Organization", None]:
        """Where an audit event about this organisation belongs (audit.record)."""
        return self, None

    def __str__(self) -> str:
        return self.name

    def accepted_sso_providers(self) -> set[str]:
        return set(_split_list(self.sso_providers))

    def accepted_email_domains(self) -> set[str]:
        return {d.lower() for d in _split_list(self.email_domains)}

    def accepts_sso_identity(self, provider_names: set[str], email: str) -> bool:
        """Both the identity's IdP and its email domain must be ones this organisation
        lists: any IdP in the pool can assert any email address as verified."""
        domain = email.rpartition("@")[2].lower()
        accepted = self.accepted_sso_providers()
        return bool(provider_names) and provider_names <= accepted and domain in self.accepted_email_domains()

    def clean(self) -> None:
        super().clean()
        for domain in _split_list(self.email_domains):
            if not _DOMAIN_RE.fullmatch(domain.lower()):
                raise ValidationError({"email_domains": f"'{domain}' is not a domain name."})
        stored = self._locked_slug_being_changed()
        if stored:
            raise ValidationError(
                {
                    "slug": f"This organisation already has projects stored under '{stored}/', "
                    "so its slug can no longer change."
                }
            )

    def save(self, *args, **kwargs) -> None:
        # The admin calls clean(); this guards every other code path too.
        if self._locked_slug_being_changed():
            raise ValidationError("An organisation's slug cannot change once it has projects.")
        super().save(*args, **kwargs)

    def _locked_slug_being_changed(self) -> str | None:
        """The stored slug, if this save would change it although projects use it."""
        if self.pk is None or not self.projects.exists():
            return None
        stored = Organization.objects.filter(pk=self.pk).values_list("slug", flat=True).first()
        return stored if stored is not None and stored != self.slug else None


_DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\s]+", value or "") if item.strip()]


class Membership(models.Model):
    class Role(models.TextChoices):
        UPLOADER = "uploader", "Uploader (upload and see)"
        VIEWER = "viewer", "Viewer (see only)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name="organisation"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.UPLOADER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class CustomerUser(User):
    """Customer accounts as consultants manage them: a proxy so the restricted admin
    never exposes staff, superuser, group or permission fields."""

    class Meta:
        proxy = True
        verbose_name = "customer user"


class Invitation(models.Model):
    """A consultant's invitation for one email address to join one organisation.

    Only a hash of the token is stored: the link in the email is the only copy."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations", verbose_name="organisation"
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices, default=Membership.Role.UPLOADER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_org_and_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"
