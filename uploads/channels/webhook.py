"""A project's webhook: one signed JSON POST per settled batch, readable by Slack as it is."""

import secrets
from typing import Any

from uploads import webhooks
from uploads.channels import Channel, Failed, Refused
from uploads.channels.content import file_rows
from uploads.models import Notification, NotificationItem, UploadProject


class Webhook(Channel):
    kinds = (Notification.Kind.WEBHOOK,)

    def send(self, n: Notification, items: list[NotificationItem]) -> None:
        project = UploadProject.objects.get(pk=n.project_id)
        if not project.webhook_url:
            return
        if not project.webhook_secret:
            project.webhook_secret = secrets.token_hex(32)
            UploadProject.objects.filter(pk=project.pk, webhook_secret="").update(
                webhook_secret=project.webhook_secret
            )
            project.refresh_from_db(fields=["webhook_secret"])
        try:
            webhooks.post_json(project.webhook_url, webhook_payload(project, items), project.webhook_secret)
        except webhooks.WebhookRefused as exc:
            raise Refused(str(exc)) from exc
        except webhooks.WebhookFailed as exc:
            raise Failed(str(exc), retry=exc.retry) from exc


def webhook_payload(project: UploadProject, items: list[NotificationItem]) -> dict[str, Any]:
    rows = file_rows(items)
    files = [
        {
            "id": str(r["upload"].pk),
            "path": r["path"],
            "size": r["size"],
            "outcome": r["upload"].verification.outcome
            if getattr(r["upload"], "verification", None)
            else r["upload"].status,
            "reason": r["reason"],
            "crc64nvme": r["crc64nvme"],
            "sha256": r["sha256"],
            "verified_at": r["verified_at"].isoformat() if r["verified_at"] else None,
        }
        for r in rows
    ]
    good = sum(1 for r in rows if r["ok"])
    lines = [
        f"{slack(project.organization.name)} / {slack(project.name)}: {good} of {len(rows)} file(s) verified"
    ]
    for r in rows[:20]:
        mark = "verified" if r["ok"] else r["status"].lower()
        lines.append(f"• {slack(r['path'])} ({r['size_h']}) {mark}")
    if len(rows) > 20:
        lines.append(f"… and {len(rows) - 20} more")
    return {
        # Slack-compatible incoming webhooks read "text"; mrkdwn off keeps *_~` in
        # file names literal.
        "text": "\n".join(lines),
        "mrkdwn": False,
        "event": "uploads.settled",
        "organization": project.organization.slug,
        "project": {"id": project.pk, "name": project.name, "key_prefix": project.key_prefix},
        "files": files,
    }


def slack(text: str) -> str:
    return webhooks.slack_escape(text)
