"""Helpers shared by the audit tests."""

from typing import Any

from django.db import connection

from audit.models import AuditEvent


def last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(before: int, action: str | None = None):
    qs = AuditEvent.objects.filter(id__gt=before).order_by("id")
    return qs.filter(action=action) if action else qs


def admin_form_data(response) -> dict[str, Any]:
    """POST data reproducing an admin add/change form as the browser would send it,
    inline formsets and their management forms included."""
    ctx = response.context
    forms = [ctx["adminform"].form]
    for inline in ctx.get("inline_admin_formsets", []):
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data: dict[str, Any] = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, (list, tuple)):
                data[key] = [str(getattr(v, "pk", v)) for v in value]
            else:
                data[key] = str(value)
    return data


def raw_sql(sql: str, params: list | None = None, *, bypass_trigger: bool = False) -> None:
    """Change the audit table behind the ORM's back, as someone with database access
    could. bypass_trigger switches the append-only trigger off for this transaction,
    as a superuser could."""
    with connection.cursor() as cursor:
        if bypass_trigger:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        if bypass_trigger:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
