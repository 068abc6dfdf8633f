"""Offline for longer than the uploader waits: the upload pauses and says why, and the
Resume button finishes it once the connection is back, byte-identical.

The limit is ten minutes (DEFAULT_RETRY.offlinePauseMs in retry.js); the test gives the
page's uploader the same policy with a limit of a few seconds, through its options."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, part_puts, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

PAUSE_S = 3
PAUSED = (
    "The connection has been down for a while, so the upload is paused. "
    "Press Resume when you are back online."
)

# Functions, not expressions: the page's CSP forbids eval, which expressions need. The
# import is the uploader's own module instance (same URL), allowed by script-src 'self'.
SHORTEN_OFFLINE_LIMIT = """async (shortMs) => {
  const loaded = performance.getEntriesByType("resource").map((e) => e.name);
  const url = loaded.find((n) => n.endsWith("/retry.js"));
  const { DEFAULT_RETRY } = await import(url);
  window.uploader.options.retryPolicy = { ...DEFAULT_RETRY, offlinePauseMs: shortMs };
  return { url: new URL(url).pathname, limit: DEFAULT_RETRY.offlinePauseMs };
}"""


def test_it_pauses_after_a_long_outage_and_resumes_on_request(
    page, live_server, tenants, tmp_path, small_plan
):
    path = tmp_path / "outage.dmp"
    sha = make_file(path, 100 * MIB + 99)
    finished = part_puts(page)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    limit = page.evaluate(SHORTEN_OFFLINE_LIMIT, PAUSE_S * 1000)
    assert limit == {"url": "/static/uploads/retry.js", "limit": 10 * 60_000}

    page.set_input_files("input[data-files]", str(path))
    page.wait_for_function("() => document.querySelector('li.upload-row progress')?.value > 4 * 1024 * 1024")
    row = page.locator("li.upload-row")
    button = row.locator("button.pause")
    page.context.set_offline(True)
    page.wait_for_timeout(1_000)
    # Under the limit it only waits, and says so.
    assert row.get_attribute("data-status") == "uploading"
    assert "offline" in page.locator("p[data-status]").inner_text()
    assert button.inner_text() == "Pause"

    page.wait_for_function(
        "() => document.querySelector('li.upload-row')?.dataset.status === 'paused'",
        timeout=PAUSE_S * 1000 + 5_000,
    )
    assert row.locator(".state").inner_text() == "Paused"
    assert row.locator(".detail").inner_text() == PAUSED
    assert page.locator("p[data-status]").inner_text() == f"{path.name}: {PAUSED}"
    assert button.is_visible() and button.inner_text() == "Resume"
    assert row.locator("button.restart").is_hidden()

    # Back online, the paused upload waits for the customer's Resume and sends nothing.
    sent_while_paused = len(finished)
    page.context.set_offline(False)
    page.wait_for_timeout(2_000)
    assert row.get_attribute("data-status") == "paused"
    assert button.inner_text() == "Resume"
    assert page.locator("p[data-status]").inner_text() == (
        "Back online. Press Resume to continue the paused uploads."
    )
    assert len(finished) == sent_while_paused
    assert 4 <= len(finished) < 100

    button.click()
    wait_done(page, path.name, timeout_s=60)

    upload = Upload.objects.get(original_name=path.name)
    assert upload.status == Upload.Status.UPLOADED
    assert stored_sha256(upload) == sha
    assert len(set(finished)) == upload.part_count
