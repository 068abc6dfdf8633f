import csv
import io
import json

from django.urls import reverse

import audit
from audit.export import safe_cell
from audit.models import AuditEvent
from conftest import with_mfa


def export(client, fmt: str, **params) -> tuple:
    response = client.get(reverse("admin:audit_auditevent_export", args=[fmt]), params)
    body = b"".join(response.streaming_content).decode() if response.status_code == 200 else ""
    return response, body


class TestExport:
    def test_it_streams_the_filtered_set_as_csv(self, client, tenants):
        audit.record("upload.created", actor=tenants.alice, target=tenants.project_a, name="a.dmp", size=1)
        audit.record("upload.aborted", actor=tenants.alice, target=tenants.project_a, reason="cancelled")
        audit.record("upload.created", actor=tenants.bob, target=tenants.project_b, name="b.dmp", size=2)
        client.force_login(with_mfa(tenants.consultant))
        response, body = export(client, "csv", action="upload.created")
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment;" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(body)))
        assert [(r["action"], json.loads(r["data"])["name"]) for r in rows] == [("upload.created", "a.dmp")]

    def test_it_streams_json_lines_that_verify(self, client, tenants):
        from audit.chain import compute_hash

        for i in range(3):
            audit.record(
                "upload.created", actor=tenants.alice, target=tenants.project_a, name=f"{i}.dmp", size=i
            )
        client.force_login(with_mfa(tenants.consultant))
        response, body = export(client, "jsonl")
        assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
        # The consultant's own events (sign-in, the export itself) are in their export too.
        rows = [json.loads(line) for line in body.splitlines()]
        own = [r["action"] for r in rows if r["action"] != "upload.created"]
        assert set(own) <= {"auth.login.succeeded", "audit.exported"} and "auth.login.succeeded" in own
        rows = [r for r in rows if r["action"] == "upload.created"]
        assert [r["data"]["name"] for r in rows] == ["2.dmp", "1.dmp", "0.dmp"]
        assert all(r["hash"] == AuditEvent.objects.get(pk=r["id"]).hash for r in rows)
        event = AuditEvent.objects.get(pk=rows[0]["id"])
        assert compute_hash({**rows[0], "created_at": event.created_at}) == rows[0]["hash"]

    def test_it_escapes_cells_a_spreadsheet_would_run(self, client, tenants, make_user):
        audit.record(
            "auth.login.failed", actor_label='=HYPERLINK("http://evil")', identifier="@SUM(1)", reason="-1+2"
        )
        client.force_login(make_user("root@example.com", superuser=True))
        _, body = export(client, "csv", action="auth.login.failed")
        row = next(csv.DictReader(io.StringIO(body)))
        assert row["actor_label"] == '\'=HYPERLINK("http://evil")'
        assert safe_cell("+1") == "'+1"
        assert safe_cell("-1") == "'-1"
        assert safe_cell("@x") == "'@x"
        assert safe_cell("plain") == "plain"

    def test_it_is_audited_with_format_and_filters(self, client, tenants):
        client.force_login(with_mfa(tenants.consultant))
        export(client, "csv", organization=tenants.org_a.pk)
        event = AuditEvent.objects.get(action="audit.exported")
        assert event.actor_label == "consultant@example.com"
        assert event.data == {"format": "csv", "filters": {"organization": str(tenants.org_a.pk)}}

    def test_it_exports_only_the_consultants_organisations(self, client, tenants):
        audit.record("upload.created", actor=tenants.bob, target=tenants.project_b, name="b.dmp", size=2)
        client.force_login(with_mfa(tenants.consultant))
        _, body = export(client, "jsonl")
        assert "b.dmp" not in body
        _, body = export(client, "jsonl", organization=tenants.org_b.pk)
        assert "b.dmp" not in body

    def test_customers_and_unknown_formats_are_refused(self, client, tenants):
        client.force_login(tenants.alice)
        response, _ = export(client, "csv")
        assert response.status_code == 302
        client.force_login(with_mfa(tenants.consultant))
        response, _ = export(client, "xlsx")
        assert response.status_code == 404
        assert not AuditEvent.objects.filter(action="audit.exported").exists()
