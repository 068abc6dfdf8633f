"""The file on disk changes between closing the page and picking it again, keeping its name,
size and modification time (so the uploader matches it to the unfinished upload): the
customer is told the file changed and offered to start again, which stores the new bytes.

A change inside a part already sent is caught before anything is sent, by re-hashing a
sample of the finished parts (plan.js: first, last and a few random ones). A change in a
part not sent yet, whose checksum the closed page had already saved, is caught at complete,
where the whole-file CRC64NVME of what storage holds does not match."""

import base64
import hashlib
import os
import re
import time

import pytest
from awscrt import checksums

from portal.tests.tabs import close_tab
from uploads import s3
from uploads.models import Upload
from uploads.tests.browser import (
    MIB,
    PART,
    SAVED_STATES,
    SlowDownAfter,
    make_file,
    open_project,
    pick_in_new_page,
    sign_in,
    stored_parts,
    stored_sha256,
    wait_done,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

CHANGED = (
    "This file is not the same as the one whose upload was started (it changed on disk). "
    "Start the upload again."
)

# What the row's detail line said, in order (the "checking" step is brief).
RECORD_DETAILS = """() => {
  window.seenDetails = [];
  new MutationObserver(() => {
    for (const d of document.querySelectorAll("li.upload-row .detail")) {
      const text = d.textContent;
      if (text && window.seenDetails.at(-1) !== text) window.seenDetails.push(text);
    }
  }).observe(document.querySelector("[data-list]"), { subtree: true, childList: true, characterData: true });
}"""


def upload_then_close(page, live_server, tenants, path, *, sent_parts: int, hashed_through: int) -> None:
    """Start the upload; after `sent_parts` parts storage slows down (later part requests
    are answered 503 Slow Down by the test, in the browser, and are retried with backoff).
    Close the page once those parts are stored and the saved resume state (IndexedDB)
    holds checksums through part `hashed_through`.

    The refused parts are answered in the browser, and the tab is closed by close_tab:
    a plain page.close() sends on the requests the route is holding, so storage held an
    extra part about one run in ten on a busy machine."""
    route = SlowDownAfter(page, sent_parts)
    stored, let_through = route.stored, route.let_through
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    saved = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        saved = page.evaluate(SAVED_STATES)
        if len(stored) >= sent_parts and saved and saved[0]["hashedThrough"] >= hashed_through:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"{len(stored)} parts stored, saved state {saved}")
    close_tab(page)
    sent = sorted({int(PART.search(u).group(1)) for u in let_through})
    assert len(sent) == sent_parts, f"let through {sent}"


def change_in_place(path, offset: int, data: bytes) -> str:
    """Overwrite bytes at `offset`, keeping the size and modification time; return the new
    SHA-256."""
    before = path.stat()
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pick_again(context, live_server, tenants, path, sent: dict[int, int]):
    return pick_in_new_page(
        context, live_server, tenants.project_a, path, sent, before_pick=lambda p: p.evaluate(RECORD_DETAILS)
    )


def wait_changed(page, name: str, timeout_s: float = 60) -> None:
    page.wait_for_function(
        """(name) => [...document.querySelectorAll("li.upload-row")].some(
             (li) => li.dataset.name === name && ["changed", "failed", "paused"].includes(li.dataset.status))
           || document.querySelector(`li.completed-row[data-name="${name}"]`)""",
        arg=name,
        timeout=timeout_s * 1000,
    )


def assert_offers_start_again(page, name: str) -> None:
    row = page.locator(f'li.upload-row[data-name="{name}"]')
    assert row.count() == 1, f"{name} is not waiting for the customer"
    assert row.get_attribute("data-status") == "changed", row.inner_text()
    assert row.locator(".state").inner_text() == "File changed"
    assert row.locator(".detail").inner_text() == CHANGED
    assert page.locator("p[data-status]").inner_text() == f"{name}: {CHANGED}"
    assert row.locator("button.restart").is_visible()
    assert row.locator("button.restart").inner_text() == "Start again"
    assert row.locator("button.pause").is_hidden()


def start_again(page, name: str) -> None:
    page.locator(f'li.upload-row[data-name="{name}"] button.restart').click()
    # The row stays "changed" while the old upload is cancelled on the server.
    page.wait_for_function(
        """(name) => ![...document.querySelectorAll("li.upload-row")].some(
             (li) => li.dataset.name === name && li.dataset.status === "changed")""",
        arg=name,
    )


def test_it_catches_a_change_in_a_part_already_sent_before_sending_more(
    page, live_server, tenants, tmp_path, small_plan
):
    path = tmp_path / "changed-early.dmp"
    old_sha = make_file(path, 40 * MIB + 4321)
    sign_in(page, live_server, tenants.alice)
    # Saved hash state past the first parts: the resume does not re-read them in the
    # hashing worker, so only the sampled check of finished parts can see the change.
    upload_then_close(page, live_server, tenants, path, sent_parts=10, hashed_through=12)
    old = Upload.objects.get(original_name=path.name)
    have = stored_parts(old)
    assert len(have) == 10
    # The server knows few part checksums (moto's ListParts has none; progress reports
    # come at the first finished part, then every 30 s); the page saved them all. Change
    # the last sent part, which the sample always takes, and which only the page's
    # saved checksum describes.
    recorded = set(old.parts.exclude(checksum_crc64nvme="").values_list("number", flat=True))
    changed_part = max(have)
    assert changed_part not in recorded

    new_sha = change_in_place(path, (changed_part - 1) * MIB + 1000, b"edited after the page closed")
    assert new_sha != old_sha
    sent: dict[int, int] = {}
    page2 = pick_again(page.context, live_server, tenants, path, sent)
    wait_changed(page2, path.name)
    assert_offers_start_again(page2, path.name)
    assert sent == {}, "nothing is sent for a file that changed"
    # Caught by the sampled re-hash of finished parts (the hashing worker resumes from
    # the saved state, past part 1). "Preparing…" is not repeated beside the state word.
    assert page2.evaluate("() => window.seenDetails") == [
        "Checking the file matches the unfinished upload…",
        CHANGED,
    ]
    old.refresh_from_db()
    assert old.status in Upload.IN_PROGRESS

    start_again(page2, path.name)
    wait_done(page2, path.name, timeout_s=60)

    old.refresh_from_db()
    assert old.status == Upload.Status.ABORTED
    new = Upload.objects.exclude(pk=old.pk).get(original_name=path.name)
    assert new.status == Upload.Status.UPLOADED
    assert new.checksum_sha256 == new_sha
    assert stored_sha256(new) == new_sha
    assert set(sent) == set(range(1, new.part_count + 1))
    assert new_sha in page2.locator(f'li.completed-row[data-name="{path.name}"]').inner_text()


def test_it_catches_a_change_in_a_part_not_sent_yet_at_complete(
    page, live_server, tenants, tmp_path, small_plan
):
    path = tmp_path / "changed-late.dmp"
    size = 40 * MIB + 4321
    old_sha = make_file(path, size)
    changed_part = 39
    sign_in(page, live_server, tenants.alice)
    # The page hashes ahead of sending: it closes with every part's checksum saved (of
    # the old bytes) and part 39 not sent.
    upload_then_close(page, live_server, tenants, path, sent_parts=10, hashed_through=41)
    old = Upload.objects.get(original_name=path.name)
    assert old.part_count == 41
    have = stored_parts(old)
    assert len(have) == 10 and changed_part not in have

    new_sha = change_in_place(path, (changed_part - 1) * MIB + 777, b"edited after the page closed")
    assert new_sha != old_sha
    sent: dict[int, int] = {}
    page2 = pick_again(page.context, live_server, tenants, path, sent)
    wait_changed(page2, path.name)
    assert_offers_start_again(page2, path.name)
    # The resume sent what storage was missing, the changed part among them ...
    assert changed_part in sent
    assert set(sent) | set(have) == set(range(1, old.part_count + 1))
    assert not set(sent) & set(have)
    # ... and complete refused it: the whole-file checksum does not match.
    old.refresh_from_db()
    assert old.status == Upload.Status.FAILED
    assert old.status_reason == "The file's checksum did not match what storage received."
    assert not old.version_id
    assert not old.checksum_sha256

    sent.clear()
    start_again(page2, path.name)
    wait_done(page2, path.name, timeout_s=60)

    old.refresh_from_db()
    assert old.status == Upload.Status.FAILED
    new = Upload.objects.exclude(pk=old.pk).get(original_name=path.name)
    assert new.status == Upload.Status.UPLOADED
    assert new.version_id
    assert new.checksum_sha256 == new_sha
    assert stored_sha256(new) == new_sha
    assert set(sent) == set(range(1, new.part_count + 1))
    # No recorded version holds (or claims) the stale bytes.
    received = Upload.objects.filter(project=tenants.project_a, status__in=Upload.RECEIVED)
    assert [u.pk for u in received] == [new.pk]
    assert not Upload.objects.filter(checksum_sha256=old_sha).exists()
    # (The refused complete did leave a version under the first upload's key: moto
    # completes without checking the checksum, and the portal only compares afterwards.)
    for key in (old.object_key, new.object_key):
        for v in s3.list_object_versions(key):
            body = s3.get_object_bytes(key, v.version_id)
            assert hashlib.sha256(body).hexdigest() != old_sha


def checking_part_checksums_like_s3(page, rejected: list[int]) -> None:
    """S3 refuses a part whose body does not match its x-amz-checksum-crc64nvme (moto does
    not check): answer such parts as S3 does, with 400 BadDigest."""

    def on_part(route):
        req = route.request
        if req.method != "PUT":
            return route.continue_()
        body = req.post_data_buffer or b""
        actual = base64.b64encode(checksums.crc64nvme(body).to_bytes(8, "big")).decode()
        if req.headers.get("x-amz-checksum-crc64nvme", actual) == actual:
            return route.continue_()
        rejected.append(int(PART.search(req.url).group(1)))
        route.fulfill(
            status=400,
            headers={"Content-Type": "application/xml", "Access-Control-Allow-Origin": req.headers["origin"]},
            body="<?xml version='1.0'?><Error><Code>BadDigest</Code>"
            "<Message>The CRC64NVME you specified did not match the calculated checksum.</Message></Error>",
        )

    page.route(re.compile(r".*partNumber=.*"), on_part)


def test_it_offers_start_again_when_storage_refuses_a_stale_part_checksum(
    page, live_server, tenants, tmp_path, small_plan
):
    path = tmp_path / "changed-late.dmp"
    make_file(path, 40 * MIB + 4321)
    sign_in(page, live_server, tenants.alice)
    upload_then_close(page, live_server, tenants, path, sent_parts=10, hashed_through=41)
    new_sha = change_in_place(path, 38 * MIB + 777, b"edited after the page closed")

    page2 = page.context.new_page()
    page2.set_default_timeout(15_000)
    rejected: list[int] = []
    checking_part_checksums_like_s3(page2, rejected)
    open_project(page2, live_server, tenants.project_a)
    page2.set_input_files("input[data-files]", str(path))
    wait_changed(page2, path.name)
    assert rejected == [39]
    assert_offers_start_again(page2, path.name)

    start_again(page2, path.name)
    wait_done(page2, path.name, timeout_s=60)
    new = Upload.objects.get(original_name=path.name, status=Upload.Status.UPLOADED)
    assert stored_sha256(new) == new_sha
