"""How the uploads app's audited actions happen, for audit/tests/test_catalogue_coverage.py:
the JSON API as the browser calls it, parts sent to moto with the vended credentials, staff
in admin, and the functions the Celery tasks run (verification, reconciliation, delivery),
called synchronously in the test's process: no broker, no worker."""

import os
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.tests.scenarios import Ctx, admin_post, scenario, staff
from uploads import integrity, lifecycle, notifications, reconciliation, s3, tasks
from uploads.models import ExpectedFile, Notification, Upload, UploadProject
from uploads.tests.helpers import (
    KIB,
    client_with,
    crc64nvme_b64,
    create,
    credentials_of,
    post_json,
    send_parts,
    sha256_hex,
    upload_fully,
)


def _storage(ctx: Ctx) -> None:
    """A clean moto bucket (versioned, as in production) and small parts, like the uploads
    tests' `bucket` fixture."""
    settings = ctx.request.getfixturevalue("settings")
    ctx.request.getfixturevalue("moto")
    settings.UPLOAD_MIN_PART_SIZE = 4 * KIB
    settings.UPLOAD_PART_SIZE_UNIT = KIB
    settings.UPLOAD_BUCKET = "test-uploads"
    s3.create_bucket()
    s3.enable_bucket_versioning()


def _alice(ctx: Ctx):
    _storage(ctx)
    ctx.client.force_login(ctx.tenants.alice)
    return ctx.client


def _started(ctx: Ctx, size: int = 9000) -> dict:
    response = create(_alice(ctx), ctx.tenants.project_a, size)
    assert response.status_code == 201, response.content
    return response.json()


def _parts_sent(ctx: Ctx, data: bytes) -> tuple[dict, object]:
    """An upload of `data` with every part sent, and the credentials that sent them."""
    up = _started(ctx, len(data))
    creds = credentials_of(post_json(ctx.client, f"/api/uploads/{up['id']}/credentials").json())
    send_parts(creds, up, data)
    return up, creds


@scenario("upload.created")
def start_an_upload(ctx: Ctx) -> None:
    _started(ctx)


@scenario("upload.credentials_issued")
def ask_for_credentials(ctx: Ctx) -> None:
    up = _started(ctx)
    assert post_json(ctx.client, f"/api/uploads/{up['id']}/credentials").status_code == 200
    # The AWS CLI path issues them too, for a key the server creates.
    path = f"/api/projects/{ctx.tenants.project_a.pk}/cli-credentials"
    assert post_json(ctx.client, path, {"name": "cli.dmp", "size": 4096}).status_code == 201


@scenario("upload.completed")
def finish_an_upload(ctx: Ctx) -> None:
    upload_fully(_alice(ctx), ctx.tenants.project_a, os.urandom(9000))


@scenario("upload.aborted")
def cancel_an_upload(ctx: Ctx) -> None:
    up = _started(ctx)
    assert post_json(ctx.client, f"/api/uploads/{up['id']}/abort").status_code == 200


@scenario("upload.failed")
def complete_with_the_wrong_checksum(ctx: Ctx) -> None:
    data = os.urandom(9000)
    up, _ = _parts_sent(ctx, data)
    wrong_crc = "AAAAAAAAAAA="  # well-formed, but not this file's CRC64NVME
    body = {"checksum_crc64nvme": wrong_crc, "checksum_sha256": sha256_hex(data)}
    response = post_json(ctx.client, f"/api/uploads/{up['id']}/complete", body)
    assert response.json()["code"] == "checksum_mismatch"


# --- background work: the functions the Celery tasks run, called synchronously ----------


def _verified(ctx: Ctx) -> dict:
    """A browser upload, completed and verified as the verify_upload task does."""
    done = upload_fully(_alice(ctx), ctx.tenants.project_a, os.urandom(9000))
    assert tasks.verify_upload(done["id"]) == "verified"
    return done


@scenario("upload.verified")
def verify_a_completed_upload(ctx: Ctx) -> None:
    _verified(ctx)


@scenario("upload.verification_failed")
def verify_an_upload_whose_object_vanished(ctx: Ctx) -> None:
    done = upload_fully(_alice(ctx), ctx.tenants.project_a, os.urandom(9000))
    upload = Upload.objects.get(pk=done["id"])
    s3.delete_object_version(upload.object_key, upload.version_id)
    assert tasks.verify_upload(done["id"]) == "failed"
    assert Upload.objects.get(pk=done["id"]).status == Upload.Status.FAILED


@scenario("upload.received_cli", "upload.received_unverified")
def copy_a_file_with_the_aws_cli(ctx: Ctx) -> None:
    # No declared SHA-256: reconciliation picks the object up, verification has nothing
    # to compare it with.
    data = os.urandom(4096)
    path = f"/api/projects/{ctx.tenants.project_a.pk}/cli-credentials"
    response = post_json(_alice(ctx), path, {"name": "export.dmp", "size": len(data)})
    assert response.status_code == 201, response.content
    body = response.json()
    client_with(credentials_of(body["credentials"])).put_object(
        Bucket=s3.bucket(), Key=body["upload"]["key"], Body=data
    )
    assert reconciliation.pick_up_cli_uploads() == 1
    assert tasks.verify_upload(body["upload"]["id"]) == "unverified"


@scenario("upload.stalled")
def leave_an_upload_idle(ctx: Ctx) -> None:
    up = _started(ctx)
    settings = ctx.request.getfixturevalue("settings")
    later = timezone.now() + timedelta(seconds=settings.UPLOAD_STALLED_AFTER_SECONDS + 60)
    assert reconciliation.mark_stalled(now=later) == 1
    assert Upload.objects.get(pk=up["id"]).status == Upload.Status.STALLED


@scenario("upload.aborted_abandoned")
def abandon_an_upload(ctx: Ctx) -> None:
    data = os.urandom(9000)
    up = _started(ctx, len(data))
    creds = credentials_of(post_json(ctx.client, f"/api/uploads/{up['id']}/credentials").json())
    send_parts(creds, up, data, numbers=[1])
    project = ctx.tenants.project_a
    later = timezone.now() + timedelta(hours=project.abandon_after_hours + 1)
    assert reconciliation.abort_abandoned(now=later) == 1
    assert s3.list_multipart_uploads(up["key"]) == []


@scenario("storage.orphan_multipart_aborted")
def leave_a_multipart_upload_no_row_knows(ctx: Ctx) -> None:
    _storage(ctx)
    s3.create_multipart_upload(f"{ctx.tenants.project_a.key_prefix}stray/object.bin")
    # (moto reports every multipart upload as initiated in 2010, so it is old enough.)
    assert reconciliation.abort_orphan_multipart_uploads() == 1


@scenario("upload.tampering_detected")
def write_beside_the_portal(ctx: Ctx) -> None:
    # The credentials can PUT over a received file's key: reconciliation flags the new
    # version while they live, and the final check once they expired lists it again.
    data = os.urandom(9000)
    up, creds = _parts_sent(ctx, data)
    body = {"checksum_crc64nvme": crc64nvme_b64(data), "checksum_sha256": sha256_hex(data)}
    assert post_json(ctx.client, f"/api/uploads/{up['id']}/complete", body).status_code == 200
    client_with(creds).put_object(Bucket=up["bucket"], Key=up["key"], Body=b"not through the portal")
    assert reconciliation.detect_tampering() == 1
    Upload.objects.filter(pk=up["id"]).update(credentials_expire_at=timezone.now() - timedelta(minutes=1))
    assert integrity.check_foreign_writes(Upload.objects.get(pk=up["id"]))


@scenario("upload.object_missing", "upload.object_restored")
def lose_a_stored_file_and_find_it_again(ctx: Ctx) -> None:
    from uploads import integrity

    done = upload_fully(_alice(ctx), ctx.tenants.project_a, os.urandom(5000))
    upload = Upload.objects.get(pk=done["id"])
    data = s3.get_object_bytes(upload.object_key, upload.version_id)
    s3.delete_object_version(upload.object_key, upload.version_id)
    assert integrity.check_stored(upload) is False
    # Put back (as a restore from a backup would) and recorded as the version that counts.
    restored = s3.put_object(upload.object_key, data)
    Upload.objects.filter(pk=upload.pk).update(version_id=restored)
    assert integrity.check_stored(Upload.objects.get(pk=upload.pk)) is True


@scenario("project.closed_by_deadline")
def let_a_project_pass_its_deadline(ctx: Ctx) -> None:
    project = ctx.tenants.project_a
    project.open_until = timezone.now() - timedelta(hours=project.grace_period_hours + 1)
    project.save()
    assert reconciliation.close_projects_past_deadline() == 1


@scenario("notification.sent")
def tell_staff_and_the_customer(ctx: Ctx) -> None:
    ctx.request.getfixturevalue("settings").NOTIFY_BATCH_QUIET_SECONDS = 0
    _verified(ctx)
    sent = [tasks.deliver_notification(n) for n in notifications.due_ids()]
    assert sent and set(sent) == {"sent"}
    assert mail.outbox


@scenario("notification.failed")
def notify_a_webhook_inside_the_network(ctx: Ctx) -> None:
    # A loopback webhook is refused before any request is made, and given up at once.
    ctx.request.getfixturevalue("settings").NOTIFY_BATCH_QUIET_SECONDS = 0
    UploadProject.objects.filter(pk=ctx.tenants.project_a.pk).update(webhook_url="https://localhost:9/hook")
    _verified(ctx)
    webhook = Notification.objects.get(kind=Notification.Kind.WEBHOOK)
    assert tasks.deliver_notification(webhook.pk) == "failed"


@scenario("upload.download_link_issued")
def consultant_downloads_a_file(ctx: Ctx) -> None:
    done = upload_fully(_alice(ctx), ctx.tenants.project_a, os.urandom(5000))
    ctx.client.force_login(staff(ctx.tenants.consultant))
    response = ctx.client.get(reverse("admin:uploads_upload_download", args=[done["id"]]))
    assert response.status_code == 302 and "X-Amz-Signature" in response["Location"]


@scenario("credentials.revoked")
def remove_a_member_with_live_credentials(ctx: Ctx) -> None:
    up = _started(ctx)
    assert post_json(ctx.client, f"/api/uploads/{up['id']}/credentials").status_code == 200
    rev = lifecycle.revoke_user_credentials(
        ctx.tenants.alice, "membership removed", actor=ctx.tenants.consultant, organization=ctx.tenants.org_a
    )
    assert rev is not None


@scenario("upload.refused")
def viewer_tries_to_upload(ctx: Ctx) -> None:
    _storage(ctx)
    ctx.client.force_login(ctx.tenants.victor)
    response = create(ctx.client, ctx.tenants.project_a, 1000)
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"


@scenario("request.refused")
def use_another_tenants_ids(ctx: Ctx) -> None:
    from audit.tests.helpers import events_since, last_id

    _alice(ctx)
    # A page: the context middleware records the Http404.
    before = last_id()
    response = ctx.client.get(reverse("project_detail", args=[ctx.tenants.project_b.pk]))
    assert response.status_code == 404
    assert events_since(before, "request.refused").exists(), "the page refused without recording it"
    # The JSON API answers 404 itself; it must record too.
    before = last_id()
    response = create(ctx.client, ctx.tenants.project_b, 10)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert events_since(before, "request.refused").exists(), "the API refused without recording it"
    # Input that does not parse.
    before = last_id()
    response = post_json(ctx.client, f"/api/projects/{ctx.tenants.project_a.pk}/uploads", {"size": "big"})
    assert response.status_code == 422
    assert events_since(before, "request.refused").exists(), "bad input was refused without recording it"


@scenario("admin.upload.deleted")
def superuser_deletes_an_upload_record(ctx: Ctx) -> None:
    up = _started(ctx)
    ctx.client.force_login(ctx.superuser())
    url = reverse("admin:uploads_upload_delete", args=[up["id"]])
    assert ctx.client.post(url, {"post": "yes"}).status_code == 302
    assert not Upload.objects.filter(pk=up["id"]).exists()


@scenario("upload.complete_interrupted")
def die_while_completing(ctx: Ctx) -> None:
    data = os.urandom(9000)
    up, _ = _parts_sent(ctx, data)
    # The web process dies between claiming the upload and asking S3 to complete it.
    Upload.objects.get(pk=up["id"]).transition(Upload.Status.COMPLETING, allowed=Upload.ACTIVE)
    settings = ctx.request.getfixturevalue("settings")
    later = timezone.now() + timedelta(seconds=settings.UPLOAD_COMPLETE_TIMEOUT_SECONDS + 1)
    assert reconciliation.recover_interrupted_completes(now=later) == 1


def _expected_entry(data: dict, pattern: str) -> str:
    """The inline form prefix ("expected_files-0-") of the entry with this pattern."""
    return next(k[: -len("pattern")] for k, v in data.items() if k.endswith("-pattern") and v == pattern)


@scenario("admin.expectedfile.created")
def consultant_lists_the_expected_files(ctx: Ctx) -> None:
    def fill(data: dict) -> None:
        data.update(
            {
                "expected_files-TOTAL_FORMS": "1",
                "expected_files-0-kind": "pattern",
                "expected_files-0-pattern": "exp_%U.dmp",
                "expected_files-0-order": "1",
            }
        )

    url = reverse("admin:uploads_uploadproject_change", args=[ctx.tenants.project_a.pk])
    admin_post(ctx, ctx.tenants.consultant, url, fill)


@scenario("admin.expectedfile.changed", "admin.expectedfile.deleted")
def consultant_edits_the_expected_files(ctx: Ctx) -> None:
    project = ctx.tenants.project_a
    ExpectedFile.objects.create(project=project, pattern="exp.log", kind="datapump_log")
    ExpectedFile.objects.create(project=project, pattern="old.csv")
    url = reverse("admin:uploads_uploadproject_change", args=[project.pk])

    def fill(data: dict) -> None:
        data[_expected_entry(data, "exp.log") + "max_size"] = "10 MB"
        data[_expected_entry(data, "old.csv") + "DELETE"] = "on"

    admin_post(ctx, ctx.tenants.consultant, url, fill)


@scenario("delivery.log_read", "delivery.completed")
def customer_delivers_a_data_pump_set(ctx: Ctx) -> None:
    from uploads.tests.test_datapump import FULL_LOG

    project = ctx.tenants.project_a
    ExpectedFile.objects.create(project=project, pattern="exp_%U.dmp", kind="pattern")
    ExpectedFile.objects.create(project=project, pattern="exp.log", kind="datapump_log")
    for name, data in [("exp.log", FULL_LOG.encode())] + [
        (f"exp_0{n}.dmp", os.urandom(5000)) for n in (1, 2, 3)
    ]:
        done = upload_fully(_alice(ctx), project, data, name=name)
        assert tasks.verify_upload(done["id"]) == "verified"


@scenario("deletion.started", "deletion.completed")
def staff_delete_one_file_on_request(ctx: Ctx) -> None:
    done = upload_fully(_alice(ctx), ctx.tenants.project_a, os.urandom(5000), name="unwanted.dmp")
    ctx.client.force_login(staff(ctx.tenants.consultant))
    url = reverse("admin:uploads_upload_delete_data", args=[done["id"]])
    assert ctx.client.post(url, {"reason": "Customer asked, ticket 42"}).status_code == 302


@scenario("deletion.held")
def retention_due_on_a_project_under_legal_hold(ctx: Ctx) -> None:
    from uploads import retention

    _storage(ctx)
    project = ctx.tenants.project_a
    project.status = UploadProject.Status.CLOSED
    project.retention_days = 0
    project.legal_hold = True
    project.save()
    retention.apply_retention()
