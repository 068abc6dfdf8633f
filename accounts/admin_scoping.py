"""Consultants (staff) see and edit only the organisations on whose account team they are.

The scope is enforced in get_queryset, so a hidden menu entry is never the only guard: a
foreign object's change URL answers like a missing one. Admin edits are audited with
before and after values."""

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet

import audit
from accounts.models import Membership, Organization


def team_organizations(user) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(account_team=user)


def team_member_ids(user) -> list[int]:
    """Customers in the organisations on whose account team the user is."""
    return list(
        Membership.objects.filter(organization__in=team_organizations(user))
        .values_list("user_id", flat=True)
        .distinct()
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, QuerySet)):
        return sorted(str(v) for v in value)
    return str(value)


def changed_values(form) -> dict[str, dict[str, Any]]:
    """{field: {"before": ..., "after": ...}} for the fields a form changed."""
    changes = {}
    for name in form.changed_data:
        if "password" in name:
            changes[name] = {"before": "(hidden)", "after": "(hidden)"}
            continue
        before = form.initial.get(name)
        field = form.fields.get(name)
        if hasattr(field, "queryset") and before is not None:
            # Model choice fields keep primary keys in initial; name the objects instead.
            pks = before if isinstance(before, (list, tuple)) else [before]
            pks = [getattr(p, "pk", p) for p in pks]
            before = [str(o) for o in field.queryset.model.objects.filter(pk__in=pks)]
        changes[name] = {"before": _jsonable(before), "after": _jsonable(form.cleaned_data.get(name))}
    return changes


class StaffScopedAdmin(admin.ModelAdmin):
    # Path from this model to its Organization; "" when the model is Organization.
    organization_path = "organization"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        lookup = f"{self.organization_path}__account_team" if self.organization_path else "account_team"
        return qs.filter(**{lookup: request.user}).distinct()

    def _is_consultant(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return self._is_consultant(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_consultant(request)

    def has_add_permission(self, request) -> bool:
        return self._is_consultant(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_consultant(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organization:
            kwargs["queryset"] = team_organizations(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: Model, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Many-to-many fields are saved later, in save_related; recorded there.
        # The ModelAdmin instance is shared between threads, so the pending event rides on
        # the request.
        request._audit_changes = changed_values(form)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        changes = getattr(request, "_audit_changes", {})
        verb = "changed" if change else "created"
        if changes or not change:
            audit.record(
                f"admin.{obj._meta.model_name}.{verb}", actor=request.user, target=obj, changes=changes
            )

    def delete_model(self, request, obj: Model) -> None:
        audit.record(f"admin.{obj._meta.model_name}.deleted", actor=request.user, target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        # The "delete selected" action bypasses delete_model: one event per row, written in
        # the same transaction as the delete so neither happens without the other.
        with transaction.atomic():
            for obj in queryset:
                audit.record(f"admin.{obj._meta.model_name}.deleted", actor=request.user, target=obj)
            super().delete_queryset(request, queryset)
