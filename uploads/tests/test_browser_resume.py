"""Close the page half way, come back in a new page, pick the same file: only what S3 is
missing crosses the wire again (counted at a Playwright route, not by the uploader)."""

import time

import pytest

from uploads.models import Upload
from uploads.tests.browser import (
    MIB,
    make_file,
    open_project,
    part_puts,
    pick_in_new_page,
    sign_in,
    stored_parts,
    stored_sha256,
    wait_done,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def upload_until_then_close(page, live_server, tenants, path, stop_after_parts: int, timeout_s=120) -> None:
    finished = part_puts(page)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    deadline_ms = timeout_s * 1000
    waited = 0
    while len(finished) < stop_after_parts and waited < deadline_ms:
        page.wait_for_timeout(20)
        waited += 20
    assert len(finished) >= stop_after_parts
    page.close()


def test_it_resumes_after_the_page_closed_sending_only_missing_parts(
    page, live_server, tenants, tmp_path, settings
):
    settings.UPLOAD_MIN_PART_SIZE = MIB
    settings.UPLOAD_PART_SIZE_UNIT = MIB
    path = tmp_path / "resume.dmp"
    sha = make_file(path, 60 * MIB + 4321)
    sign_in(page, live_server, tenants.alice)
    upload_until_then_close(page, live_server, tenants, path, stop_after_parts=30)

    upload = Upload.objects.get(original_name=path.name)
    time.sleep(1)  # a part whose body was fully sent may still be landing
    have = stored_parts(upload)
    missing = upload.size - sum(have.values())
    assert 0 < missing < upload.size

    sent: dict[int, int] = {}
    page2 = pick_in_new_page(page.context, live_server, tenants.project_a, path, sent)
    wait_done(page2, path.name, timeout_s=120)

    resent = sum(sent.values())
    # Parts in flight when the page closed may have landed after we looked: the page may
    # then send one of them again, never more than one part's worth beyond the gap.
    assert resent <= missing + upload.part_size
    # Nothing S3 already had is sent again, except at most one part that was in flight.
    assert len(set(sent) & set(have)) <= 1
    assert resent >= missing
    assert all(size > 0 for size in sent.values()), "the route saw every part body"
    upload.refresh_from_db()
    assert upload.status == Upload.Status.UPLOADED
    assert stored_sha256(upload) == sha
