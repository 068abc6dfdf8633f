"""Customer users' active state reaches the customer directory (accounts.directories):
deactivating a customer in admin disables them there, activating enables them, and an
action sends the state again after a failure."""

from django.contrib import admin, messages

from accounts import directories

PUSH = "Send the selected users' active/disabled state to the customer directory again"


class DirectoryAdminMixin:
    actions = ["push_to_directory"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not directories.current().external:
            actions.pop("push_to_directory", None)
        return actions

    @admin.action(description=PUSH)
    def push_to_directory(self, request, queryset):
        done = sum(self._tell_directory(request, user) for user in queryset)
        if done:
            self.message_user(request, f"{done} user(s) updated in the customer directory.", messages.SUCCESS)

    def _tell_directory(self, request, user) -> bool:
        """Disable or enable the user in the customer directory as is_active says. A failure
        keeps the portal's own change (a disabled user is disabled here either way) and says
        how to retry."""
        directory = directories.current()
        try:
            if user.is_active:
                directory.user_enabled(user, actor=request.user)
            else:
                directory.user_disabled(user, actor=request.user)
        except directories.DirectoryError as exc:
            self.message_user(
                request,
                f"{exc} The change is saved in the portal. To try again, select the user in the "
                f"list and choose “{PUSH}”.",
                messages.ERROR,
            )
            return False
        return True

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            self._tell_directory(request, obj)
