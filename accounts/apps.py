from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers and access"

    def ready(self) -> None:
        from django.db.models import Q

        from accounts import signals  # noqa: F401
        from accounts.admin_scoping import team_member_ids, team_organizations
        from audit import scope

        scope.provide(
            organizations=team_organizations,
            people=team_member_ids,
            members=lambda organization_id: Q(memberships__organization_id=organization_id),
        )
