"""Email: staff results, stalled and tampering warnings, and the customer's receipt."""

from typing import ClassVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from portal.format import human_size
from uploads import delivery
from uploads.channels import Channel
from uploads.channels.content import file_rows, staff_recipients
from uploads.models import Notification, NotificationItem

Kind = Notification.Kind


class Email(Channel):
    kinds = (Kind.STAFF_RESULTS, Kind.RECEIPT, Kind.STAFF_STALLED, Kind.STAFF_TAMPERING, Kind.STAFF_DELIVERY)
    templates: ClassVar[dict[str, str]] = {
        Kind.STAFF_RESULTS: "email/staff_results",
        Kind.RECEIPT: "email/receipt",
        Kind.STAFF_STALLED: "email/staff_stalled",
        Kind.STAFF_TAMPERING: "email/staff_tampering",
        Kind.STAFF_DELIVERY: "email/staff_delivery",
    }

    def send(self, n: Notification, items: list[NotificationItem]) -> None:
        project = n.project
        if n.kind == Kind.RECEIPT:
            to = [n.recipient.email] if n.recipient and n.recipient.email else []
        else:
            to = staff_recipients(project)
        if not to or not items:
            return
        rows = file_rows(items)
        context = {
            "project": project,
            "organization": project.organization,
            "files": rows,
            "count": len(rows),
            "verified": sum(1 for r in rows if r["ok"]),
            "problems": sum(1 for r in rows if not r["ok"]),
            "total_size": human_size(sum(r["size"] for r in rows)),
            "recipient": n.recipient,
            "portal_url": settings.PORTAL_BASE_URL.rstrip("/"),
        }
        if n.kind == Kind.STAFF_DELIVERY:
            context["delivery"] = delivery.delivery_status(project=project)
        base = self.templates[n.kind]
        subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
        text = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
        # Staff are addressed individually so no one sees a colleague's address list grow.
        message = EmailMultiAlternatives(subject=subject[:200], body=text, to=to)
        message.attach_alternative(html, "text/html")
        message.send()
