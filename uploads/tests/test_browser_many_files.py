"""Hundreds of files picked at once: every one gets its row at once, a few run at a time,
and all of them arrive intact. How long the page's main thread is blocked is a timing, so it
is measured (written where PAGE_LONG_TASKS_OUT says, by bench/page_long_tasks.py), never
asserted here: a busy machine would make it a flake."""

import hashlib
import json
import os

import pytest

from uploads.models import Upload
from uploads.tests.browser import open_project, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

FILES = 200

# Long tasks (main-thread work over 50 ms) and how many files ran at once, sampled each frame.
WATCH = """() => {
  window.longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.longTasks.push(e.duration);
  }).observe({ type: "longtask", buffered: true });
  window.mostRunning = 0;
  const running = ["starting", "uploading", "completing"];
  const sample = () => {
    const n = window.uploader.manager.uploads.filter((u) => running.includes(u.status)).length;
    window.mostRunning = Math.max(window.mostRunning, n);
    requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
}"""


def test_it_queues_hundreds_of_files_without_freezing_the_page(page, live_server, tenants, tmp_path):
    expected = {}
    paths = []
    for i in range(FILES):
        data = f"line {i}\n".encode() * (50 + i)
        path = tmp_path / f"log{i:03}.txt"
        path.write_bytes(data)
        expected[path.name] = hashlib.sha256(data).hexdigest()
        paths.append(str(path))

    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.evaluate(WATCH)
    page.set_input_files("input[data-files]", paths)

    # Every file is listed at once, most of them waiting their turn.
    assert page.locator("li.upload-row").count() + page.locator("li.completed-row").count() == FILES
    assert f"{FILES} files added" in page.locator("p[data-status]").inner_text()
    assert page.locator("li.upload-row .state", has_text="Waiting").count() > FILES - 20

    page.wait_for_function(
        "(n) => document.querySelectorAll('li.completed-row').length === n", arg=FILES, timeout=240_000
    )
    assert page.locator("li.upload-row").count() == 0
    assert page.evaluate("() => window.uploader.manager.active") is False

    if out := os.environ.get("PAGE_LONG_TASKS_OUT"):
        tasks = page.evaluate("() => window.longTasks")
        with open(out, "w") as f:
            json.dump({"files": FILES, "long_tasks_ms": tasks}, f)
    assert page.evaluate("() => window.mostRunning") == 2, "two files at a time"
    uploads = Upload.objects.filter(project=tenants.project_a)
    assert {u.original_name: u.checksum_sha256 for u in uploads} == expected
    assert {u.status for u in uploads} == {Upload.Status.UPLOADED}
    assert len({u.batch_id for u in uploads}) == 1
