"""The local S3 (`portal/local_s3.py`, the moto that `make run` and these tests start) holds
a multipart object in the space of its bytes once: completing it and listing its versions
copy nothing, and what it serves back is byte-for-byte and checksum-for-checksum right.
Disk is read from the server process's open, deleted temporary files, where moto keeps bodies."""

import base64
import os

import boto3
import pytest
from awscrt import checksums

from portal.local_s3 import held_on_disk

PART = 2 * 1024 * 1024  # above the tests' 1 MiB spool size, so parts live on disk


@pytest.fixture
def s3(moto):
    client = boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="local-s3-test")
    client.put_bucket_versioning(Bucket="local-s3-test", VersioningConfiguration={"Status": "Enabled"})
    return client


def upload_in_parts(s3, parts: list[bytes]) -> dict:
    created = s3.create_multipart_upload(
        Bucket="local-s3-test",
        Key="dump.dmp",
        ChecksumAlgorithm="CRC64NVME",
        ChecksumType="FULL_OBJECT",
    )
    sent = []
    for number, body in enumerate(parts, 1):
        answer = s3.upload_part(
            Bucket="local-s3-test",
            Key="dump.dmp",
            UploadId=created["UploadId"],
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="CRC64NVME",
        )
        sent.append(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC64NVME": answer["ChecksumCRC64NVME"]}
        )
    return {"UploadId": created["UploadId"], "Parts": sent}


def crc64nvme(data: bytes) -> str:
    return base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode()


def test_it_completes_and_lists_without_copying_the_object(moto, s3):
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(PART), os.urandom(1500)]
    size = sum(len(p) for p in parts)
    before = held_on_disk(moto.process.pid)
    pending = upload_in_parts(s3, parts)
    with_parts = held_on_disk(moto.process.pid) - before

    s3.complete_multipart_upload(
        Bucket="local-s3-test",
        Key="dump.dmp",
        UploadId=pending["UploadId"],
        MultipartUpload={"Parts": pending["Parts"]},
        ChecksumType="FULL_OBJECT",
        ChecksumCRC64NVME=crc64nvme(b"".join(parts)),
    )
    completed = held_on_disk(moto.process.pid) - before
    for _ in range(5):
        s3.list_object_versions(Bucket="local-s3-test", Prefix="dump.dmp")
    listed = held_on_disk(moto.process.pid) - before

    # moto as shipped: twice the object after complete, one more copy per listing.
    assert with_parts >= 3 * PART
    assert completed <= 1.2 * size
    assert listed <= 1.2 * size


def test_it_serves_the_joined_object_whole_and_in_ranges(s3):
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(777)]
    data = b"".join(parts)
    pending = upload_in_parts(s3, parts)
    done = s3.complete_multipart_upload(
        Bucket="local-s3-test",
        Key="dump.dmp",
        UploadId=pending["UploadId"],
        MultipartUpload={"Parts": pending["Parts"]},
        ChecksumType="FULL_OBJECT",
        ChecksumCRC64NVME=crc64nvme(data),
    )

    head = s3.head_object(Bucket="local-s3-test", Key="dump.dmp", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data)
    assert head["ChecksumCRC64NVME"] == crc64nvme(data)
    assert head["ETag"] == done["ETag"] and head["ETag"].endswith('-3"')
    whole = s3.get_object(Bucket="local-s3-test", Key="dump.dmp")["Body"].read()
    assert whole == data
    across = s3.get_object(Bucket="local-s3-test", Key="dump.dmp", Range=f"bytes={PART - 10}-{PART + 10}")
    assert across["Body"].read() == data[PART - 10 : PART + 11]
    assert across["ContentRange"] == f"bytes {PART - 10}-{PART + 10}/{len(data)}"
    tail = s3.get_object(Bucket="local-s3-test", Key="dump.dmp", Range="bytes=-100")
    assert tail["Body"].read() == data[-100:]


def test_it_keeps_old_versions_readable_and_frees_a_deleted_one(moto, s3):
    parts = [os.urandom(PART), os.urandom(100)]
    before = held_on_disk(moto.process.pid)
    pending = upload_in_parts(s3, parts)
    s3.complete_multipart_upload(
        Bucket="local-s3-test",
        Key="dump.dmp",
        UploadId=pending["UploadId"],
        MultipartUpload={"Parts": pending["Parts"]},
    )
    first = s3.head_object(Bucket="local-s3-test", Key="dump.dmp")["VersionId"]
    s3.list_object_versions(Bucket="local-s3-test")
    s3.put_object(Bucket="local-s3-test", Key="dump.dmp", Body=b"written over")

    old = s3.get_object(Bucket="local-s3-test", Key="dump.dmp", VersionId=first)
    assert old["Body"].read() == b"".join(parts)
    s3.delete_object(Bucket="local-s3-test", Key="dump.dmp", VersionId=first)
    assert held_on_disk(moto.process.pid) - before < PART
    current = s3.get_object(Bucket="local-s3-test", Key="dump.dmp")["Body"].read()
    assert current == b"written over"


def test_it_refuses_a_complete_naming_a_part_it_never_got(s3):
    pending = upload_in_parts(s3, [os.urandom(PART), os.urandom(10)])
    forged = pending["Parts"] + [{"PartNumber": 3, "ETag": '"0123456789abcdef0123456789abcdef"'}]
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.complete_multipart_upload(
            Bucket="local-s3-test",
            Key="dump.dmp",
            UploadId=pending["UploadId"],
            MultipartUpload={"Parts": forged},
        )
    assert refused.value.response["Error"]["Code"] == "InvalidPart"
    # Nothing lost: the upload can still be completed with the parts it has.
    s3.complete_multipart_upload(
        Bucket="local-s3-test",
        Key="dump.dmp",
        UploadId=pending["UploadId"],
        MultipartUpload={"Parts": pending["Parts"]},
    )
    assert s3.head_object(Bucket="local-s3-test", Key="dump.dmp")["ContentLength"] == PART + 10
