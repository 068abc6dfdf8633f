from django.urls import reverse

import audit
from audit.context import RequestContext, current_request


def activity_rows(client, project) -> list[str]:
    from html.parser import HTMLParser

    page = client.get(reverse("project_detail", args=[project.pk])).content.decode()
    section = page.split('id="activity-h"', 1)[1].split("</section>", 1)[0]

    class Text(HTMLParser):
        rows: list[str] = []
        current: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.current = []

        def handle_endtag(self, tag):
            if tag == "tr" and self.current is not None:
                self.rows.append(" ".join(" ".join(self.current).split()))
                self.current = None

        def handle_data(self, data):
            if self.current is not None:
                self.current.append(data)

    parser = Text()
    parser.rows = []
    parser.feed(section)
    return parser.rows[1:]  # without the header row


class TestProjectActivity:
    def test_a_customer_sees_who_uploaded_what(self, client, tenants):
        token = current_request.set(RequestContext(ip="203.0.113.9", user_agent="Firefox"))
        audit.record(
            "upload.created", actor=tenants.alice, target=tenants.project_a, name="dump.dmp", size=2048
        )
        audit.record("upload.verified", target=tenants.project_a, size=2048)
        current_request.reset(token)
        client.force_login(tenants.victor)
        rows = activity_rows(client, tenants.project_a)
        assert len(rows) == 2
        assert "Upload Portal verified" in rows[0]
        assert "alice@acme.example started uploading dump.dmp" in rows[1]
        assert "(2.0 KiB)" in rows[1]
        page = client.get(reverse("project_detail", args=[tenants.project_a.pk])).content.decode()
        assert "203.0.113.9" not in page
        assert "Firefox" not in page

    def test_it_shows_nothing_but_upload_activity(self, client, tenants):
        audit.record("membership.added", actor=tenants.consultant, target=tenants.project_a, user="x")
        audit.record(
            "upload.credentials_issued", actor=tenants.alice, target=tenants.project_a, key="acme/oracle/k"
        )
        audit.record("admin.uploadproject.changed", actor=tenants.consultant, target=tenants.project_a)
        client.force_login(tenants.alice)
        assert activity_rows(client, tenants.project_a) == []
        page = client.get(reverse("project_detail", args=[tenants.project_a.pk])).content.decode()
        assert "No upload activity yet." in page

    def test_it_shows_only_this_projects_activity(self, client, tenants):
        audit.record("upload.created", actor=tenants.bob, target=tenants.project_b, name="ledger.csv", size=1)
        client.force_login(tenants.alice)
        assert activity_rows(client, tenants.project_a) == []
        assert client.get(reverse("project_detail", args=[tenants.project_b.pk])).status_code == 404

    def test_consultants_appear_as_the_portal(self, client, tenants):
        audit.record("upload.aborted", actor=tenants.consultant, target=tenants.project_a, reason="staff")
        client.force_login(tenants.alice)
        rows = activity_rows(client, tenants.project_a)
        assert rows and rows[0].split(" UTC ", 1)[-1].startswith("Upload Portal cancelled")
        assert "consultant@example.com" not in rows[0]

    def test_every_action_shown_to_customers_reads_as_words(self):
        from audit.activity import VERBS
        from audit.catalogue import CUSTOMER_VISIBLE_ACTIONS

        # Otherwise the page would show a raw action name like "upload.received_cli".
        assert sorted(set(CUSTOMER_VISIBLE_ACTIONS) - set(VERBS)) == []
        assert sorted(set(VERBS) - set(CUSTOMER_VISIBLE_ACTIONS)) == []
