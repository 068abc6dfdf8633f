"""Leaving the page mid-upload asks first; staying keeps the upload going. With nothing
uploading, the page closes without a question."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_it_asks_before_leaving_mid_upload(page, live_server, tenants, tmp_path, small_plan):
    path = tmp_path / "big.dmp"
    sha = make_file(path, 60 * MIB)
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.locator("h2#uploader-h").click()  # Chromium asks only on pages the user touched
    page.set_input_files("input[data-files]", str(path))
    page.wait_for_function("() => document.querySelector('li.upload-row progress')?.value > 0")

    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert not page.is_closed(), "the customer chose to stay"
    wait_done(page, path.name, timeout_s=60)
    assert stored_sha256(Upload.objects.get(original_name=path.name)) == sha

    with page.expect_event("close", timeout=5_000):
        page.close(run_before_unload=True)  # nothing uploading now: no question
    assert dialogs == ["beforeunload"]
