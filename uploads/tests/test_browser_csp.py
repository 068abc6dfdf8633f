"""The uploader runs under the Content-Security-Policy the portal sends (portal/csp.py:
WebAssembly needs 'wasm-unsafe-eval'; parts go to the S3 endpoint), and the check can fail."""

import re

import pytest
from django.conf import settings as django_settings

from conftest import CHROMIUM, CHROMIUM_ARGS
from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


@pytest.fixture
def lna_off_page(browser):
    # The header is added by fulfilling the page from a route; Chromium then cannot tell the
    # document came from loopback and its Local Network Access check blocks the parts to
    # moto on 127.0.0.1. A real deployment sends the header itself, so turn that check off.
    with_lna_off = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests",
        ],
    )
    page = with_lna_off.new_context().new_page()
    page.set_default_timeout(15_000)
    yield page
    with_lna_off.close()


def csp_violation(text: str) -> bool:
    return "Content Security Policy" in text


def uploader_csp(s3_endpoint: str) -> str:
    return (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
        f"connect-src 'self' {s3_endpoint}; img-src 'self' data:; style-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


def test_it_uploads_under_the_policy_the_portal_sends(page, live_server, tenants, tmp_path):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if csp_violation(m.text) else None)
    path = tmp_path / "csp.dmp"
    sha = make_file(path, 3 * MIB)
    sign_in(page, live_server, tenants.alice)
    with page.expect_response(re.compile(r"/projects/\d+/$")) as served:
        open_project(page, live_server, tenants.project_a)
    header = served.value.headers["content-security-policy"]
    assert header == uploader_csp(django_settings.AWS_PUBLIC_ENDPOINT_URL)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)

    assert violations == []
    assert stored_sha256(Upload.objects.get(original_name=path.name)) == sha


def test_the_csp_check_can_fail_without_the_s3_endpoint(lna_off_page, live_server, tenants, tmp_path):
    page = lna_off_page
    csp = uploader_csp("https://elsewhere.example")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if csp_violation(m.text) else None)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": csp})

    page.route(re.compile(rf"{re.escape(live_server.url)}/projects/\d+/$"), with_csp)
    path = tmp_path / "blocked.dmp"
    make_file(path, MIB)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    page.wait_for_selector('li.upload-row[data-status="uploading"]')
    page.wait_for_timeout(3_000)
    assert any("connect-src" in v for v in violations)
    assert not Upload.objects.filter(original_name=path.name, status=Upload.Status.UPLOADED).exists()
