"""The customer's Pause, Resume and Cancel buttons: a paused upload sends nothing until
Resume and then finishes byte-identical; a cancelled one stops, and nothing is kept."""

import pytest

from audit.models import AuditEvent
from uploads import s3
from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, part_puts, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def row_status(page, status: str, timeout_ms: int = 15_000) -> None:
    page.wait_for_function(
        "(s) => document.querySelector('li.upload-row')?.dataset.status === s", arg=status, timeout=timeout_ms
    )


def upload_a_while(page, live_server, tenants, path) -> list[int]:
    """Start uploading `path` as alice and return once 8 MiB are sent, with the part numbers
    of the PUTs the page starts (kept up to date)."""
    started = part_puts(page, "request")
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    page.wait_for_function("() => document.querySelector('li.upload-row progress')?.value > 8 * 1024 * 1024")
    return started


def test_pause_stops_sending_and_resume_finishes(page, live_server, tenants, tmp_path, small_plan):
    path = tmp_path / "paused.dmp"
    sha = make_file(path, 80 * MIB + 5)
    started = upload_a_while(page, live_server, tenants, path)

    row = page.locator("li.upload-row")
    row.get_by_role("button", name="Pause").click()
    row_status(page, "paused")
    assert row.locator(".state").inner_text() == "Paused"
    started_before = len(started)
    page.wait_for_timeout(3_000)
    assert len(started) == started_before, "no part starts while paused"
    upload = Upload.objects.get(original_name=path.name)
    stored = {p.number for p in s3.list_parts(upload.object_key, upload.multipart_upload_id)}
    assert 0 < len(stored) < upload.part_count

    row.get_by_role("button", name="Resume").click()
    wait_done(page, path.name, timeout_s=60)
    upload.refresh_from_db()
    assert stored_sha256(upload) == sha
    after_resume = started[started_before:]
    assert set(after_resume) == set(range(1, upload.part_count + 1)) - stored, "only the missing parts"
    assert len(after_resume) == len(set(after_resume))


def test_cancel_stops_the_upload_and_keeps_nothing(page, live_server, tenants, tmp_path, small_plan):
    path = tmp_path / "cancelled.dmp"
    make_file(path, 80 * MIB + 5)
    started = upload_a_while(page, live_server, tenants, path)

    row = page.locator("li.upload-row")
    row.get_by_role("button", name="Cancel").click()
    row_status(page, "cancelled")
    assert row.locator(".state").inner_text() == "Cancelled"
    assert page.evaluate("() => window.uploader.manager.active") is False
    upload = Upload.objects.get(original_name=path.name)
    for _ in range(50):  # the abort call lands shortly after the row changes
        upload.refresh_from_db()
        if upload.status == Upload.Status.ABORTED:
            break
        page.wait_for_timeout(100)
    assert upload.status == Upload.Status.ABORTED
    sent = len(started)
    page.wait_for_timeout(2_000)
    assert len(started) == sent, "nothing is sent after Cancel"
    assert s3.list_multipart_uploads(upload.object_key) == []
    assert s3.list_object_versions(upload.object_key) == []
    assert AuditEvent.objects.filter(action="upload.aborted", data__by="customer").count() == 1
