"""How to make each catalogued action happen, the way a user or the system would.

The walking test (test_catalogue_coverage.py) runs the scenario for every action in
audit.catalogue.ACTIONS and checks the event was written. Register a scenario with
@scenario("action.name"), here or in `<app>/tests/audit_scenarios.py` (discovered
automatically), so the branch that adds an action also adds how to trigger it.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import reverse

from audit.tests.helpers import admin_form_data, raw_sql
from conftest import TEST_PASSWORD, with_mfa


@dataclass
class Ctx:
    client: Any
    tenants: Any
    make_user: Callable
    request: Any  # pytest's FixtureRequest, for fixtures only some scenarios need

    def superuser(self):
        from django.contrib.auth.models import User

        user = User.objects.filter(username="root@example.com").first()
        return staff(user or self.make_user("root@example.com", superuser=True))


def staff(user):
    """Staff must have TOTP before admin lets them in (accounts.middleware)."""
    return with_mfa(user)


SCENARIOS: dict[str, Callable[[Ctx], None]] = {}


def scenario(*actions: str):
    def register(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        for action in actions:
            SCENARIOS[action] = fn
        return fn

    return register


def discover() -> dict[str, Callable[[Ctx], None]]:
    for config in apps.get_app_configs():
        module = f"{config.name}.tests.audit_scenarios"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name not in (module, f"{config.name}.tests"):
                raise
    return SCENARIOS


def admin_post(ctx: Ctx, user, url: str, change: Callable[[dict], None] | None = None) -> Any:
    """GET an admin form as `user`, let `change` edit the data, POST it back; the POST
    must succeed (a redirect)."""
    ctx.client.force_login(staff(user))
    data = admin_form_data(ctx.client.get(url))
    if change:
        change(data)
    response = ctx.client.post(url, data)
    errors = response.context and [
        f.errors for f in [response.context.get("adminform") and response.context["adminform"].form] if f
    ]
    assert response.status_code == 302, f"admin form refused: {errors}"
    return response


def inline_form_prefix(data: dict, user_pk: int, field: str = "user") -> str:
    for key, value in data.items():
        if key.endswith(f"-{field}") and value == str(user_pk):
            return key[: -len(field)]
    raise AssertionError(f"no inline form for {field}={user_pk}")


# --- sign-in (accounts.signals) -------------------------------------------------------


@scenario("auth.login.succeeded")
def sign_in(ctx: Ctx) -> None:
    response = ctx.client.post(
        reverse("account_login"), {"login": "alice@acme.example", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


@scenario("auth.login.failed")
def sign_in_wrong_password(ctx: Ctx) -> None:
    ctx.client.post(reverse("account_login"), {"login": "alice@acme.example", "password": "not-it"})


@scenario("auth.logout")
def sign_out(ctx: Ctx) -> None:
    ctx.client.force_login(ctx.tenants.alice)
    ctx.client.post(reverse("account_logout"))


# --- memberships and customer users (accounts.admin) -----------------------------------


@scenario("membership.added", "admin.customeruser.created")
def add_customer(ctx: Ctx) -> None:
    def fill(data: dict) -> None:
        data.update(
            email="carol@acme.example",
            first_name="Carol",
            organization=str(ctx.tenants.org_a.pk),
            role="viewer",
            is_active="on",
        )

    admin_post(ctx, ctx.tenants.consultant, reverse("admin:accounts_customeruser_add"), fill)


@scenario("membership.role_changed")
def change_role(ctx: Ctx) -> None:
    def fill(data: dict) -> None:
        data[inline_form_prefix(data, ctx.tenants.victor.pk) + "role"] = "uploader"

    url = reverse("admin:accounts_organization_change", args=[ctx.tenants.org_a.pk])
    admin_post(ctx, ctx.tenants.consultant, url, fill)


@scenario("membership.removed")
def remove_member(ctx: Ctx) -> None:
    def fill(data: dict) -> None:
        data[inline_form_prefix(data, ctx.tenants.victor.pk) + "DELETE"] = "on"

    url = reverse("admin:accounts_organization_change", args=[ctx.tenants.org_a.pk])
    admin_post(ctx, ctx.tenants.consultant, url, fill)


@scenario("admin.customeruser.changed")
def change_customer(ctx: Ctx) -> None:
    url = reverse("admin:accounts_customeruser_change", args=[ctx.tenants.alice.pk])
    admin_post(ctx, ctx.tenants.consultant, url, lambda d: d.update(first_name="Alicia"))


@scenario("admin.customeruser.deleted")
def delete_customer(ctx: Ctx) -> None:
    ctx.client.force_login(ctx.superuser())
    url = reverse("admin:accounts_customeruser_delete", args=[ctx.tenants.victor.pk])
    assert ctx.client.post(url, {"post": "yes"}).status_code == 302


# --- organisations and projects (accounts.admin_scoping) ------------------------------


@scenario("admin.organization.created")
def create_organisation(ctx: Ctx) -> None:
    url = reverse("admin:accounts_organization_add")
    admin_post(ctx, ctx.tenants.consultant, url, lambda d: d.update(name="Initech", slug="initech"))


@scenario("admin.organization.changed")
def change_organisation(ctx: Ctx) -> None:
    url = reverse("admin:accounts_organization_change", args=[ctx.tenants.org_a.pk])
    admin_post(ctx, ctx.tenants.consultant, url, lambda d: d.update(name="Acme Corporation"))


@scenario("admin.organization.deleted")
def delete_organisation(ctx: Ctx) -> None:
    from accounts.models import Organization

    org = Organization.objects.create(name="Short-lived", slug="short-lived")
    ctx.client.force_login(ctx.superuser())
    url = reverse("admin:accounts_organization_delete", args=[org.pk])
    assert ctx.client.post(url, {"post": "yes"}).status_code == 302


@scenario("admin.uploadproject.created")
def create_project(ctx: Ctx) -> None:
    def fill(data: dict) -> None:
        data.update(organization=str(ctx.tenants.org_a.pk), name="Payroll", slug="payroll")

    admin_post(ctx, ctx.tenants.consultant, reverse("admin:uploads_uploadproject_add"), fill)


@scenario("admin.uploadproject.changed")
def change_project(ctx: Ctx) -> None:
    url = reverse("admin:uploads_uploadproject_change", args=[ctx.tenants.project_a.pk])
    admin_post(ctx, ctx.tenants.consultant, url, lambda d: d.update(instructions="Send the full dump."))


@scenario("admin.uploadproject.deleted")
def delete_project(ctx: Ctx) -> None:
    from uploads.models import UploadProject

    project = UploadProject.objects.create(organization=ctx.tenants.org_a, name="Tmp", slug="tmp")
    ctx.client.force_login(ctx.superuser())
    url = reverse("admin:uploads_uploadproject_delete", args=[project.pk])
    assert ctx.client.post(url, {"post": "yes"}).status_code == 302


# --- the audit log itself --------------------------------------------------------------


@scenario("audit.exported")
def export_events(ctx: Ctx) -> None:
    ctx.client.force_login(staff(ctx.tenants.consultant))
    response = ctx.client.get(reverse("admin:audit_auditevent_export", args=["csv"]))
    b"".join(response.streaming_content)


@scenario("audit.archived")
def archive_events(ctx: Ctx) -> None:
    from audit import archive

    ctx.request.getfixturevalue("audit_bucket")
    archive.archive_pending()


@scenario("audit.chain.broken")
def break_the_chain(ctx: Ctx) -> None:
    import audit
    from audit.tasks import run_verification

    event = audit.record("auth.logout", actor_label="someone")
    raw_sql("UPDATE audit_auditevent SET actor_label = 'x' WHERE id = %s", [event.pk], bypass_trigger=True)
    assert run_verification(use_archive=False)["ok"] is False
