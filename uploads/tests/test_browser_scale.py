"""Scale: a 10,000-part upload (1 KiB parts, moto and the portal configured for them),
interrupted near part 9,000 and resumed in a new page sending only the missing parts."""

import time

import pytest

from uploads.models import Upload
from uploads.tests.browser import make_file, pick_in_new_page, sign_in, stored_parts, stored_sha256, wait_done
from uploads.tests.test_browser_resume import upload_until_then_close

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
KIB = 1024


def test_it_resumes_a_10000_part_upload_interrupted_near_part_9000(
    page, live_server, tenants, tmp_path, settings
):
    settings.UPLOAD_MIN_PART_SIZE = KIB
    settings.UPLOAD_PART_SIZE_UNIT = KIB
    path = tmp_path / "many-parts.dmp"
    sha = make_file(path, 10_000 * KIB - 100)
    sign_in(page, live_server, tenants.alice)
    upload_until_then_close(page, live_server, tenants, path, stop_after_parts=9_000, timeout_s=400)

    upload = Upload.objects.get(original_name=path.name)
    time.sleep(1)  # a part whose body was fully sent may still be landing
    assert (upload.part_size, upload.part_count) == (KIB, 10_000)
    have = stored_parts(upload)
    assert 8_900 <= len(have) < 10_000
    missing_parts = set(range(1, 10_001)) - set(have)
    missing = upload.size - sum(have.values())

    sent: dict[int, int] = {}
    page2 = pick_in_new_page(page.context, live_server, tenants.project_a, path, sent)
    wait_done(page2, path.name, timeout_s=300)

    assert missing_parts <= set(sent)
    assert len(set(sent) - missing_parts) <= 1
    assert missing <= sum(sent.values()) <= missing + KIB
    upload.refresh_from_db()
    assert upload.status == Upload.Status.UPLOADED
    assert stored_sha256(upload) == sha
