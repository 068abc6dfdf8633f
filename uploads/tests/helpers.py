"""Shared by the upload API tests: a signed-in client, a bucket on moto, and an uploader
that sends parts with vended credentials the way the browser does."""

import base64
import hashlib
import json

import boto3
import pytest
from awscrt import checksums
from botocore.config import Config
from django.conf import settings

from uploads import s3
from uploads.s3 import Credentials

KIB = 1024


@pytest.fixture
def small_parts(settings):
    # moto in the test session accepts 1 KiB parts; the portal plans with the same unit.
    settings.UPLOAD_MIN_PART_SIZE = 4 * KIB
    settings.UPLOAD_PART_SIZE_UNIT = KIB
    settings.UPLOAD_BUCKET = "test-uploads"


@pytest.fixture
def bucket(moto, small_parts):
    s3.create_bucket()
    s3.enable_bucket_versioning()
    return s3.bucket()


def crc64nvme_b64(data: bytes) -> str:
    return base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def post_json(client, url: str, body: dict | None = None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def create(client, project, data: bytes | int, name: str = "dump.dmp", **extra):
    size = data if isinstance(data, int) else len(data)
    body = {
        "name": name,
        "relative_path": "",
        "size": size,
        "content_type": "application/octet-stream",
        "last_modified": 1_700_000_000_000,
        **extra,
    }
    return post_json(client, f"/api/projects/{project.pk}/uploads", body)


def credentials_of(resp_json: dict) -> Credentials:
    from datetime import datetime

    return Credentials(
        access_key_id=resp_json["access_key_id"],
        secret_access_key=resp_json["secret_access_key"],
        session_token=resp_json["session_token"],
        expiration=datetime.fromisoformat(resp_json["expiration"].replace("Z", "+00:00")),
    )


def client_with(credentials: Credentials, service: str = "s3"):
    """A boto3 client acting with vended credentials, as a customer's browser or CLI would."""
    return boto3.session.Session().client(
        service,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region_name=settings.AWS_REGION,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


def send_parts(creds: Credentials, upload: dict, data: bytes, numbers=None) -> None:
    """PUT the planned parts with the vended credentials, as the browser does."""
    c = client_with(creds)
    ps = upload["part_size"]
    for n in numbers or range(1, upload["part_count"] + 1):
        chunk = data[(n - 1) * ps : n * ps]
        c.upload_part(
            Bucket=upload["bucket"],
            Key=upload["key"],
            UploadId=upload["multipart_upload_id"],
            PartNumber=n,
            Body=chunk,
            ChecksumCRC64NVME=crc64nvme_b64(chunk),
        )


def start(client, project, data: bytes, name: str = "dump.dmp") -> tuple[dict, Credentials]:
    """Create an upload and get its credentials, as the browser does first."""
    up = create(client, project, data, name=name).json()
    creds = credentials_of(post_json(client, f"/api/uploads/{up['id']}/credentials").json())
    return up, creds


def complete(client, up: dict, data: bytes, crc: str | None = None):
    """Ask the portal to complete with the whole file's checksums (`crc` overrides the CRC)."""
    body = {"checksum_crc64nvme": crc or crc64nvme_b64(data), "checksum_sha256": sha256_hex(data)}
    return post_json(client, f"/api/uploads/{up['id']}/complete", body)


def upload_fully(client, project, data: bytes, name: str = "dump.dmp") -> dict:
    """Create, get credentials, send every part and complete; returns the complete reply."""
    up, creds = start(client, project, data, name=name)
    send_parts(creds, up, data)
    resp = complete(client, up, data)
    assert resp.status_code == 200, resp.content
    return resp.json()
