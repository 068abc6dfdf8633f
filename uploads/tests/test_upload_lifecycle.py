import os

from uploads import s3
from uploads.models import Upload
from uploads.tests.helpers import (
    complete,
    crc64nvme_b64,
    create,
    credentials_of,
    post_json,
    send_parts,
    sha256_hex,
)


class TestUploadLifecycle:
    def test_a_file_goes_up_in_planned_parts_and_is_recorded(self, alice_client, tenants, bucket, settings):
        data = os.urandom(10 * 1024 + 123)
        resp = create(alice_client, tenants.project_a, data)
        assert resp.status_code == 201, resp.content
        up = resp.json()
        assert up["part_size"] == 4096 and up["part_count"] == 3
        assert up["key"].startswith(f"acme/oracle/{up['id']}/") and up["key"].endswith("dump.dmp")
        assert up["multipart_upload_id"]

        cr = post_json(alice_client, f"/api/uploads/{up['id']}/credentials")
        assert cr.status_code == 200, cr.content
        assert cr["Cache-Control"] == "no-store"
        send_parts(credentials_of(cr.json()), up, data)

        parts = alice_client.get(f"/api/uploads/{up['id']}/parts").json()
        assert [p["number"] for p in parts["parts"]] == [1, 2, 3]
        assert [p["size"] for p in parts["parts"]] == [4096, 4096, len(data) - 8192]

        done = complete(alice_client, up, data)
        assert done.status_code == 200, done.content
        body = done.json()
        assert body["status"] == "uploaded" and body["version_id"]
        assert body["checksum_crc64nvme"] == crc64nvme_b64(data)
        assert s3.get_object_bytes(up["key"], body["version_id"]) == data
        row = Upload.objects.get(pk=up["id"])
        assert row.status == Upload.Status.UPLOADED and row.version_id == body["version_id"]
        assert row.checksum_sha256 == sha256_hex(data)
