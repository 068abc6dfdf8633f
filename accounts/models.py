from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "organisation"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
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


class Membership(models.Model):
    class Role(models.TextChoices):
        UPLOADER = "uploader", "Uploader (upload and see)"
        VIEWER = "viewer", "Viewer (see only)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
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
