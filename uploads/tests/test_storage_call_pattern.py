"""The portal asks S3 the cheap question where it answers: HeadObject on the recorded
version for verification and for writes over the key, one ListObjectVersions per upload,
once nobody else can write to its key. (moto copies every body on each listing, which
once filled the disk of `make run`; on S3 a listing is O(versions) per call.)"""

import collections
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from uploads import reconciliation, s3, verification
from uploads.models import Upload
from uploads.tests.helpers import (
    client_with,
    crc64nvme_b64,
    create,
    credentials_of,
    post_json,
    send_parts,
    sha256_hex,
)


@pytest.fixture
def s3_calls(bucket):
    calls: collections.Counter[str] = collections.Counter()

    def count(model, **kwargs):
        calls[model.name] += 1

    events = s3.client().meta.events
    events.register("before-call.s3", count, unique_id="count-s3-calls")
    yield calls
    events.unregister("before-call.s3", unique_id="count-s3-calls")


def completed(client, project):
    """A browser upload through the API, with the credentials it was sent with."""
    data = os.urandom(9000)
    up = create(client, project, data).json()
    creds = credentials_of(post_json(client, f"/api/uploads/{up['id']}/credentials").json())
    send_parts(creds, up, data)
    body = {"checksum_crc64nvme": crc64nvme_b64(data), "checksum_sha256": sha256_hex(data)}
    assert post_json(client, f"/api/uploads/{up['id']}/complete", body).status_code == 200
    return up, creds


def test_a_verified_upload_is_listed_once_in_its_life(alice_client, tenants, s3_calls):
    up, _ = completed(alice_client, tenants.project_a)
    assert verification.verify(up["id"]) == "verified"
    # Reconciliation passes while the customer's credentials still live, then the final one.
    for _ in range(5):
        assert reconciliation.detect_tampering() == 0
    Upload.objects.filter(pk=up["id"]).update(credentials_expire_at=timezone.now() - timedelta(minutes=1))
    assert reconciliation.detect_tampering() == 0
    assert reconciliation.detect_tampering() == 0
    assert s3_calls["ListObjectVersions"] == 1
    assert s3_calls["HeadObject"] >= 6  # the early passes asked HeadObject instead


def test_the_early_pass_still_sees_a_write_over_the_key(alice_client, tenants, s3_calls):
    up, creds = completed(alice_client, tenants.project_a)
    client_with(creds).delete_object(Bucket=s3.bucket(), Key=up["key"])
    assert reconciliation.detect_tampering() == 1
    assert s3_calls["ListObjectVersions"] == 0
