"""Faults injected between Chromium and S3 with Playwright's request routing and offline
mode: the upload rides them out and the stored object is byte-identical."""

import re

import pytest

from uploads.models import Upload
from uploads.tests.browser import (
    MIB,
    PART,
    make_file,
    open_project,
    part_puts,
    sign_in,
    stored_sha256,
    wait_done,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def s3_error(route, status: int, code: str) -> None:
    origin = route.request.headers.get("origin", "*")
    route.fulfill(
        status=status,
        headers={
            "Content-Type": "application/xml",
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "ETag",
        },
        body=f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>",
    )


def test_it_survives_aborted_parts_slowdown_and_an_expired_token(
    page, live_server, tenants, tmp_path, small_plan
):
    path = tmp_path / "faults.dmp"
    sha = make_file(path, 40 * MIB + 777)
    seen: dict[int, int] = {}
    injected = {"abort": 0, "slowdown": 0, "expired": 0}
    credential_calls = []

    def on_part(route):
        if route.request.method != "PUT":
            return route.continue_()
        n = int(PART.search(route.request.url).group(1))
        seen[n] = seen.get(n, 0) + 1
        if seen[n] == 1 and n % 4 == 1:
            injected["abort"] += 1
            return route.abort("connectionreset")
        if seen[n] == 1 and n % 4 == 2:
            injected["slowdown"] += 1
            return s3_error(route, 503, "SlowDown")
        if n == 7 and seen[n] == 1:
            injected["expired"] += 1
            return s3_error(route, 400, "ExpiredToken")
        return route.continue_()

    page.on("request", lambda r: credential_calls.append(r.url) if r.url.endswith("/credentials") else None)
    page.route(re.compile(r".*partNumber=.*"), on_part)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=180)

    assert injected == {"abort": 11, "slowdown": 10, "expired": 1}
    assert len(credential_calls) == 2  # the first, and one refresh after ExpiredToken
    upload = Upload.objects.get(original_name=path.name)
    assert upload.status == Upload.Status.UPLOADED
    assert stored_sha256(upload) == sha


def test_it_waits_out_20_seconds_offline(page, live_server, tenants, tmp_path, small_plan):
    path = tmp_path / "offline.dmp"
    sha = make_file(path, 100 * MIB)
    done_parts = part_puts(page)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    # A function, not an expression: the page's CSP forbids eval, which expressions need.
    page.wait_for_function("() => document.querySelector('li.upload-row progress')?.value > 4 * 1024 * 1024")
    page.context.set_offline(True)
    page.wait_for_timeout(2_000)  # let events of parts that finished just before arrive
    parts_before = len(done_parts)
    page.wait_for_timeout(18_000)
    assert "offline" in page.locator("p[data-status]").inner_text()
    assert len(done_parts) == parts_before, "no part finished while offline"
    assert page.locator("li.upload-row").get_attribute("data-status") == "uploading"
    page.context.set_offline(False)
    wait_done(page, path.name, timeout_s=120)

    upload = Upload.objects.get(original_name=path.name)
    assert stored_sha256(upload) == sha
    assert parts_before < 100
