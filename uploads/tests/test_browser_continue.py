"""A file dropped in Chromium is continued after the page reloads with one click on
"Continue", without the file being chosen again: the page kept the file's handle (File
System Access API) with the resume state. The drop is a real one, of a file on disk, made
through the DevTools protocol (Input.dispatchDragEvent), as a file manager's drag arrives;
a script-made DataTransfer carries no handles."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import (
    MIB,
    SAVED_STATES,
    SlowDownAfter,
    counting,
    make_file,
    open_project,
    sign_in,
    stored_parts,
    stored_sha256,
    wait_done,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def saved_handles(page) -> list[str]:
    return [s["handle"] for s in page.evaluate(SAVED_STATES) if s["handle"]]


def drag_from_disk(page, selector: str, path) -> None:
    """Drag a file from the operating system onto `selector`, as from a file manager."""
    target = page.locator(selector)
    target.scroll_into_view_if_needed()  # the protocol drops at viewport coordinates
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    data = {"items": [], "files": [str(path)], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    cdp.detach()


def start_then_reload(page, live_server, tenants, path, *, parts: int) -> Upload:
    """Drop `path`, let `parts` parts be stored, then reload the page mid-upload (the tab
    crashed and was restored, or the customer pressed reload and said "Leave")."""
    route = SlowDownAfter(page, parts)
    stored = route.stored
    open_project(page, live_server, tenants.project_a)
    drag_from_disk(page, "[data-dropzone]", path)
    page.wait_for_function(
        "(n) => document.querySelector(`li.upload-row[data-name='${n}']`)?.dataset.status === 'uploading'",
        arg=path.name,
    )
    deadline = 60_000
    while (len(stored) < parts or saved_handles(page) != [path.name]) and deadline > 0:
        page.wait_for_timeout(100)
        deadline -= 100
    assert len(stored) == parts, stored
    assert saved_handles(page) == [path.name], "the page saved the dropped file's handle"
    page.on("dialog", lambda dialog: dialog.accept())  # "Leave site?": yes
    # A reload unloads the document, which cancels the part requests the route is holding.
    page.reload()
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    route.remove()
    return Upload.objects.get(original_name=path.name)


def test_continue_after_a_reload_resumes_without_choosing_the_file_again(
    page, live_server, tenants, tmp_path, settings
):
    settings.UPLOAD_MIN_PART_SIZE = MIB
    settings.UPLOAD_PART_SIZE_UNIT = MIB
    path = tmp_path / "nightly.dmp"
    sha = make_file(path, 24 * MIB + 321)
    sign_in(page, live_server, tenants.alice)
    upload = start_then_reload(page, live_server, tenants, path, parts=8)
    have = stored_parts(upload)
    assert len(have) == 8

    choosers = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    sent: dict[int, int] = {}
    counting(page, sent)
    row = page.locator("li.continue-row", has_text=path.name)
    assert "without choosing the file again" in row.inner_text()
    row.get_by_role("button", name="Continue").click()
    wait_done(page, path.name, timeout_s=120)

    assert choosers == [], "no file chooser was opened"
    assert set(sent) == set(range(1, upload.part_count + 1)) - set(have), "only the missing parts were sent"
    assert page.locator("li.continue-row").count() == 0
    upload.refresh_from_db()
    assert upload.status in (Upload.Status.UPLOADED, Upload.Status.VERIFYING, Upload.Status.VERIFIED)
    assert stored_sha256(upload) == sha
    assert saved_handles(page) == [], "a finished upload leaves no saved state behind"


def test_continue_on_a_file_moved_away_says_so_and_keeps_the_upload(
    page, live_server, tenants, tmp_path, settings
):
    settings.UPLOAD_MIN_PART_SIZE = MIB
    settings.UPLOAD_PART_SIZE_UNIT = MIB
    path = tmp_path / "moved.dmp"
    make_file(path, 6 * MIB + 5)
    sign_in(page, live_server, tenants.alice)
    upload = start_then_reload(page, live_server, tenants, path, parts=2)
    path.rename(tmp_path / "elsewhere.dmp")

    page.locator("li.continue-row", has_text=path.name).get_by_role("button", name="Continue").click()
    status = page.locator("[data-status]")
    status.get_by_text("could not be opened").wait_for()
    assert "Choose it again to continue" in status.inner_text()
    # The offer stays, and the upload is still there to finish once the file is found.
    assert (
        page.locator("li.continue-row", has_text=path.name)
        .get_by_role("button", name="Continue")
        .is_enabled()
    )
    upload.refresh_from_db()
    assert upload.status in Upload.ACTIVE
    open_project(page, live_server, tenants.project_a)
    assert path.name in page.locator("section[aria-labelledby=progress-h]").inner_text()
