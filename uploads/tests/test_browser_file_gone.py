"""The file goes away in the middle of its upload (deleted, moved, its USB drive pulled): the
row says so in words the customer can act on instead of blaming the network, nothing
already stored is lost, and once the file is back, Resume finishes it."""

import os
import shutil
import time

import pytest

from uploads.models import Upload
from uploads.tests.browser import (
    MIB,
    SAVED_STATES,
    SlowDownAfter,
    make_file,
    open_project,
    sign_in,
    stored_parts,
    stored_sha256,
    wait_done,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

GONE = (
    "This file can no longer be read: it was moved, renamed or deleted, or its drive was "
    "disconnected. Put it back and press Resume, or choose it again."
)


def test_a_file_that_vanishes_mid_upload_is_said_plainly_and_resumes_once_back(
    page, live_server, tenants, tmp_path, small_plan
):
    path = tmp_path / "ledger-export.dmp"
    sha = make_file(path, 30 * MIB + 999)
    kept = tmp_path / "kept-aside.dmp"
    sign_in(page, live_server, tenants.bob)
    route = SlowDownAfter(page, 3)  # storage slows down after three parts; the rest wait
    open_project(page, live_server, tenants.project_b)
    page.set_input_files("input[data-files]", str(path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        saved = page.evaluate(SAVED_STATES)
        if len(route.stored) >= 3 and saved and saved[0]["hashedThrough"] >= 5:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"{len(route.stored)} parts stored")

    stat = path.stat()
    shutil.move(path, kept)  # the customer moves the file away
    route.remove()  # storage is fine again: the parts waiting go out, and cannot be read
    row = page.locator(f'li.upload-row[data-name="{path.name}"]')
    page.wait_for_function(
        "(name) => document.querySelector(`li.upload-row[data-name='${name}']`)?.dataset.status === 'failed'",
        arg=path.name,
        timeout=60_000,
    )
    assert row.locator(".detail").inner_text() == GONE
    assert page.locator("p[data-status]").inner_text() == f"{path.name}: {GONE}"
    upload = Upload.objects.get(original_name=path.name)
    assert upload.status in Upload.IN_PROGRESS
    assert sorted(stored_parts(upload)) == [1, 2, 3], "what storage held is kept"

    shutil.move(kept, path)  # put back as it was
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    resume = row.locator("button.pause")
    assert resume.inner_text() == "Resume"
    resume.click()
    wait_done(page, path.name, timeout_s=60)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.UPLOADED
    assert stored_sha256(upload) == sha
