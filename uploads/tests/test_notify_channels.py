"""Each kind of notification leaves through the channel `NOTIFICATION_CHANNELS` names: a new
channel is one class and one line, and a channel's refusal or failure is handled as the
outbox handles any other (given up and audited, or retried)."""

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from uploads import channels, notifications
from uploads.models import Notification
from uploads.tests.bgutils import make_upload, settle

pytestmark = pytest.mark.django_db

sent: list[tuple[str, list[str]]] = []


class Chat(channels.Channel):
    """What a Slack or Teams channel would be: here it records what it was asked to send."""

    kinds = (Notification.Kind.WEBHOOK,)

    def send(self, notification, items):
        sent.append((notification.kind, [i.upload.original_name for i in items]))


class Unreachable(channels.Channel):
    kinds = (Notification.Kind.WEBHOOK,)

    def send(self, notification, items):
        raise channels.Failed("the chat service answered 503", retry=True)


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.NOTIFY_BATCH_QUIET_SECONDS = 0
    sent.clear()


def deliver_all() -> dict[str, str]:
    return {n.kind: notifications.deliver(n.pk) for n in Notification.objects.all()}


def test_a_new_channel_is_one_class_and_one_line(tenants, settings):
    settings.NOTIFICATION_CHANNELS = ["uploads.channels.email.Email", f"{__name__}.Chat"]
    tenants.project_a.webhook_url = "https://hooks.example.com/x"
    tenants.project_a.save()
    settle(make_upload(tenants.project_a, user=tenants.alice, name="ledger.dmp"))

    outcome = deliver_all()

    assert outcome["webhook"] == "sent" and sent == [("webhook", ["ledger.dmp"])]
    assert outcome["staff_results"] == "sent"
    assert any("ledger.dmp" in m.body for m in mail.outbox)


def test_a_failing_channel_is_retried_and_a_kind_without_one_is_given_up(tenants, settings):
    settings.NOTIFICATION_CHANNELS = ["uploads.channels.email.Email", f"{__name__}.Unreachable"]
    tenants.project_a.webhook_url = "https://hooks.example.com/x"
    tenants.project_a.save()
    settle(make_upload(tenants.project_a, user=tenants.alice))
    assert deliver_all()["webhook"] == "pending"
    assert "503" in Notification.objects.get(kind="webhook").last_error

    settings.NOTIFICATION_CHANNELS = ["uploads.channels.email.Email"]
    Notification.objects.filter(kind="webhook").update(not_before=timezone.now())  # its retry is due
    assert notifications.deliver(Notification.objects.get(kind="webhook").pk) == "failed"
    assert AuditEvent.objects.filter(action="notification.failed", data__kind="webhook").exists()


def test_two_channels_for_one_kind_is_a_configuration_error(settings):
    settings.NOTIFICATION_CHANNELS = [f"{__name__}.Chat", f"{__name__}.Unreachable"]
    with pytest.raises(ValueError, match="Two channels send 'webhook'"):
        channels.registry()
