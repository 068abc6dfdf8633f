from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

import audit
from accounts import invitations
from accounts.admin_directory import DirectoryAdminMixin
from accounts.admin_scoping import StaffScopedAdmin, team_organizations
from accounts.models import CustomerUser, Invitation, Membership, Organization


def _record_membership(action: str, request, membership: Membership) -> None:
    audit.record(
        action,
        actor=request.user,
        target=membership,
        organization=membership.organization,
        user=membership.user.get_username(),
        role=membership.role,
    )


def customer_users_visible_to(user):
    """Customer (non-staff) users a consultant may see: members of their organisations,
    plus users with no membership yet so they can be added somewhere."""
    customers = User.objects.filter(is_staff=False, is_superuser=False)
    if user.is_superuser:
        return customers
    return customers.filter(
        Q(memberships__organization__account_team=user) | Q(memberships__isnull=True)
    ).distinct()


class MembershipAuditMixin:
    """Membership rows added, changed or removed through an inline are audited."""

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            _record_membership("membership.removed", request, membership)
            membership.delete()
        for membership in instances:
            created = membership.pk is None
            membership.save()
            _record_membership(
                "membership.added" if created else "membership.role_changed", request, membership
            )
        formset.save_m2m()


class OrganizationMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = customer_users_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request, obj=None):
        return request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff

    def has_delete_permission(self, request, obj=None):
        return request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff


@admin.register(Organization)
class OrganizationAdmin(MembershipAuditMixin, StaffScopedAdmin):
    organization_path = ""
    list_display = ["name", "slug", "is_active", "project_count", "member_count", "created_at"]
    list_filter = ["is_active", "mfa_required"]
    search_fields = ["name", "slug"]
    date_hierarchy = "created_at"
    filter_horizontal = ["account_team"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "account_team"]}),
        ("Sign-in", {"fields": ["mfa_required", "sso_providers", "email_domains", "idp_hint"]}),
    ]
    inlines = [OrganizationMembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _projects=Count("projects", distinct=True), _members=Count("memberships", distinct=True)
            )
        )

    @admin.display(description="Projects", ordering="_projects")
    def project_count(self, obj):
        return obj._projects

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj):
        return obj._members

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "account_team":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A consultant who creates an organisation must not lose sight of it.
        if not change and not request.user.is_superuser:
            form.instance.account_team.add(request.user)


class CustomerMembershipInline(OrganizationMembershipInline):
    fields = ["organization", "role", "created_at"]

    def get_queryset(self, request):
        # Memberships in other teams' organisations stay invisible.
        return super().get_queryset(request).filter(organization__in=team_organizations(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization":
            kwargs["queryset"] = team_organizations(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CustomerUserForm(forms.ModelForm):
    """Only the fields a consultant may set: never staff, superuser, groups or permissions."""

    class Meta:
        model = CustomerUser
        fields = ["email", "first_name", "last_name", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class CustomerUserAddForm(CustomerUserForm):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.UPLOADER)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        strip=False,
        help_text="Optional. Leave empty to invite the user to sign in with SSO or set a "
        "password themselves.",
    )

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            validate_password(password)
        return password


# What staff fill in to add a customer by hand (invitations are the usual way).
CUSTOMER_ADD_FIELDS = ["email", "first_name", "last_name", "organization", "role", "password", "is_active"]


@admin.register(CustomerUser)
class CustomerUserAdmin(DirectoryAdminMixin, MembershipAuditMixin, StaffScopedAdmin):
    organization_path = "memberships__organization"
    list_display = ["email", "first_name", "last_name", "organisations", "is_active", "last_login"]
    list_filter = ["is_active", "memberships__organization"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(is_staff=False, is_superuser=False)
            .prefetch_related("memberships__organization")
        )

    @admin.display(description="Organisations")
    def organisations(self, obj):
        return ", ".join(sorted(m.organization.name for m in obj.memberships.all()))

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = CustomerUserForm
            return super().get_form(request, obj, **kwargs)
        kwargs["form"] = CustomerUserAddForm
        kwargs["fields"] = CUSTOMER_ADD_FIELDS
        form_class = super().get_form(request, obj, **kwargs)
        organizations = team_organizations(request.user)

        class ScopedAddForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                self.fields["organization"].queryset = organizations

        return ScopedAddForm

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {"fields": CUSTOMER_ADD_FIELDS},
                )
            ]
        return [
            (None, {"fields": ["email", "first_name", "last_name", "is_active", "last_login", "date_joined"]})
        ]

    def get_inlines(self, request, obj):
        return [CustomerMembershipInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        obj.username = obj.email
        # Belt and braces: the form has no such fields, and nothing else may set them.
        obj.is_staff = False
        obj.is_superuser = False
        if not change:
            password = form.cleaned_data.get("password")
            if password:
                obj.set_password(password)
            else:
                obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        if not change:
            membership = Membership.objects.create(
                user=obj,
                organization=form.cleaned_data["organization"],
                role=form.cleaned_data["role"],
            )
            audit.record(
                "membership.added",
                actor=request.user,
                target=membership,
                organization=membership.organization,
                user=obj.get_username(),
                role=membership.role,
            )


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["organization", "email", "role"]

    def clean(self):
        data = super().clean()
        if data.get("organization") and data.get("email"):
            try:
                data["email"] = invitations.validate_invitee(data["organization"], data["email"])
            except ValidationError as exc:
                self.add_error("email", exc)
        return data


@admin.register(Invitation)
class InvitationAdmin(StaffScopedAdmin):
    form = InvitationForm
    list_display = ["email", "organization", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["organization", "role"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    actions = ["resend", "revoke"]
    list_select_related = ["organization", "invited_by"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "organization",
            "email",
            "role",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "accepted_by",
            "revoked_at",
        ]

    def get_fields(self, request, obj=None):
        return ["organization", "email", "role"] if obj is None else self.get_readonly_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # Invitations are created, resent or revoked; never edited.
        return self._is_consultant(request) and obj is None

    def save_model(self, request, obj, form, change):
        # The service writes the audit event and sends the email.
        created = invitations.create_invitation(obj.organization, obj.email, obj.role, request.user, request)
        for f in Invitation._meta.concrete_fields:
            setattr(obj, f.attname, getattr(created, f.attname))
        self._directory_problem(request, created)

    def _directory_problem(self, request, invitation) -> bool:
        if not getattr(invitation, "directory_error", ""):
            return False
        self.message_user(
            request,
            f"{invitation.directory_error} The invitation for {invitation.email} is saved but no "
            "email went out: select it below and choose “Resend” to try again.",
            messages.ERROR,
        )
        return True

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description="Status")
    def status(self, obj):
        return obj.status

    @admin.action(description="Resend the selected invitations (new link and expiry)")
    def resend(self, request, queryset):
        self._each(request, queryset, invitations.resend_invitation, "resent", {"request": request})

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request, queryset):
        self._each(request, queryset, invitations.revoke_invitation, "revoked", {})

    def _each(self, request, queryset, service, verb, kwargs):
        done = 0
        for invitation in queryset:
            try:
                service(invitation, request.user, **kwargs)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
                continue
            if not self._directory_problem(request, invitation):
                done += 1
        if done:
            self.message_user(request, f"{done} invitation(s) {verb}.", messages.SUCCESS)


class SuperuserOnlyUserAdmin(UserAdmin):
    """Django's full user admin can grant staff and superuser: superusers only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


admin.site.unregister(User)
admin.site.register(User, SuperuserOnlyUserAdmin)
