import os
import urllib.parse
import urllib.request

from audit.models import AuditEvent
from conftest import with_mfa
from uploads import s3
from uploads.tests.helpers import create, upload_fully


def download_url(upload_id) -> str:
    return f"/admin/uploads/upload/{upload_id}/download/"


class TestStaffDownload:
    def test_a_consultant_downloads_the_recorded_version(self, client, alice_client, tenants, bucket):
        data = os.urandom(5000)
        done = upload_fully(alice_client, tenants.project_a, data)
        # A later PUT over the key (e.g. with still-valid credentials) must not be served.
        s3.put_object(f"acme/oracle/{done['id']}/dump.dmp", b"tampered")
        client.force_login(with_mfa(tenants.consultant))
        page = client.get(f"/admin/uploads/upload/{done['id']}/change/").content.decode()
        assert download_url(done["id"]) in page
        resp = client.get(download_url(done["id"]))
        assert resp.status_code == 302
        url = resp["Location"]
        query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        assert query["versionId"] == [done["version_id"]]
        assert int(query["X-Amz-Expires"][0]) <= 900
        assert "dump.dmp" in query["response-content-disposition"][0]
        assert urllib.request.urlopen(url, timeout=10).read() == data
        event = AuditEvent.objects.get(action="upload.download_link_issued")
        assert event.actor == tenants.consultant and event.data["version_id"] == done["version_id"]

    def test_another_teams_consultant_gets_404(self, client, alice_client, tenants, bucket):
        done = upload_fully(alice_client, tenants.project_a, os.urandom(5000))
        client.force_login(with_mfa(tenants.other_consultant))
        assert client.get(download_url(done["id"])).status_code == 404
        assert not AuditEvent.objects.filter(action="upload.download_link_issued").exists()

    def test_customers_cannot_use_it(self, alice_client, tenants, bucket):
        done = upload_fully(alice_client, tenants.project_a, os.urandom(5000))
        resp = alice_client.get(download_url(done["id"]))
        assert resp.status_code == 302 and "/admin/login/" in resp["Location"]

    def test_unfinished_uploads_cannot_be_downloaded(self, client, alice_client, tenants, bucket):
        up = create(alice_client, tenants.project_a, 5000).json()
        client.force_login(with_mfa(tenants.consultant))
        resp = client.get(download_url(up["id"]), follow=True)
        assert b"Only received files can be downloaded." in resp.content
        assert not AuditEvent.objects.filter(action="upload.download_link_issued").exists()
