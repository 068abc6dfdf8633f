from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers and access"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401
