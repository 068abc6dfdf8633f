"""A project that leaves the whole file's SHA-256 to the portal (the default): the browser
hashes only the CRC64NVME, which storage checks per part and for the whole file, and the
customer sees the SHA-256 the portal recomputed from the stored file, without reloading."""

import json

import pytest

from uploads import verification
from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_the_page_shows_the_sha256_the_portal_computed(page, live_server, tenants, tmp_path, settings):
    settings.PROJECT_PAGE_POLL_SECONDS = 1
    project = tenants.project_b
    assert project.sha256_in_browser is False
    path = tmp_path / "ledger.dmp"
    sha = make_file(path, 24 * MIB + 777)
    workers: list[str] = []
    page.on("worker", lambda w: workers.append(w.url))
    completes: list[dict] = []

    def on_request(request) -> None:
        if request.method == "POST" and request.url.endswith("/complete"):
            completes.append(json.loads(request.post_data))

    page.on("request", on_request)

    sign_in(page, live_server, tenants.bob)
    open_project(page, live_server, project)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)

    upload = Upload.objects.get(original_name=path.name)
    assert completes == [{"checksum_crc64nvme": upload.checksum_crc64nvme, "checksum_sha256": None}]
    assert [u for u in workers if u.endswith("/hash-worker.js")] == [workers[0]], "one hashing worker"
    assert upload.status == Upload.Status.UPLOADED and upload.checksum_sha256 == ""
    row = page.locator(f'li.completed-row[data-name="{path.name}"]')
    code = row.locator("code[data-sha256-for]")
    assert code.inner_text() == "computed by the portal as it verifies the file"

    assert verification.verify(upload.pk) == "verified"  # the worker's job
    shown = "(sha) => document.querySelector('code[data-sha256-for]').textContent === sha"
    page.wait_for_function(shown, arg=sha, timeout=30_000)
    assert row.locator("[data-verification]").inner_text() == "Verified"
    assert stored_sha256(upload) == sha
    page.reload()
    listed = page.locator("[data-live-section=completed]").inner_text()
    assert f"SHA-256 {sha} (recomputed by the portal)" in listed
