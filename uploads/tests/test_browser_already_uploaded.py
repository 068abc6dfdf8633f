"""Picking a file that was already uploaded does not send it again unasked: the row says when
it arrived, and "Upload again" sends a second copy."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_it_asks_before_sending_a_file_again(page, live_server, tenants, tmp_path):
    path = tmp_path / "export.dmp"
    sha = make_file(path, 9 * MIB)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)

    # The next day, in a new page, the customer picks the same file again.
    page.goto("about:blank")
    puts = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    row = page.locator(f'li.upload-row[data-name="{path.name}"]')
    page.wait_for_function(
        "() => document.querySelector('li.upload-row')?.dataset.status === 'duplicate'", timeout=20_000
    )
    assert "already uploaded on" in row.inner_text()
    assert row.locator(".state").inner_text() == "Already uploaded"
    assert Upload.objects.count() == 1 and puts == []
    assert page.evaluate("() => window.uploader.manager.active") is False, "no leave-page warning"

    row.get_by_role("button", name="Upload again").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll(`li.completed-row[data-name='${n}']`).length === 1",
        arg=path.name,
        timeout=60_000,
    )
    first, second = Upload.objects.order_by("created_at")
    assert second.status in Upload.RECEIVED and first.status in Upload.RECEIVED
    assert second.object_key != first.object_key
    assert stored_sha256(second) == sha == stored_sha256(first)
