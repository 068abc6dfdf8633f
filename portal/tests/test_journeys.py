"""Each person's whole journey on the portal as `make run` starts it, in Chromium.

The three journeys run in order on one stack and build on each other, as a real first week
does: the consultant sets up MFA and invites a customer, the customer accepts and uploads,
the consultant reviews what arrived. No fixture creates what a person would create, and the
browser's own background requests (favicon included) are left alone; a desktop browser
fetches /favicon.ico after drawing each page, so the journeys do too (`settle`)."""

import hashlib
import re
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from portal.format import human_size
from portal.tests.stack import Stack, body_of
from portal.tests.tabs import close_tab
from uploads.tests.browser import SlowDownAfter, part_puts

DEMO_PASSWORD = "portal-demo-2026"
CONSULTANT = "consultant@example.com"
CUSTOMER = "dana@initech.example"
CUSTOMER_PASSWORD = "a-long-passphrase-for-dana"
MIB = 1024 * 1024
PART = 8 * MIB  # make run's part size


class Journey:
    """What one journey leaves for the next."""

    consultant_page = None
    customer_context = None
    files: dict[str, str] = {}
    done: set[str] = set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("make-run"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def chromium(browser):
    # The session's one Chromium (conftest): Playwright's sync API allows one at a time.
    return browser


@pytest.fixture(scope="module")
def journey():
    return Journey()


def settle(page) -> None:
    """What a desktop browser does after drawing a page: fetch the favicon with its cookies."""
    page.wait_for_load_state()
    status = page.evaluate("async () => (await fetch('/favicon.ico', {credentials: 'same-origin'})).status")
    assert status == 200


def totp_now(secret: str) -> str:
    # A code typed in the last seconds of its 30 s step could expire on the way.
    if time.time() % 30 > 26:
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def part_number(url: str) -> int:
    return int(re.search(r"partNumber=(\d+)", url).group(1))


def make_file(path: Path, size: int) -> str:
    block = hashlib.sha256(path.name.encode()).digest() * (MIB // 32)
    sha = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            f.write(chunk)
            sha.update(chunk)
            left -= len(chunk)
    return sha.hexdigest()


def wait_mail(stack: Stack, to: str, subject_part: str, body_part: str = "", timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in stack.mail_to(to):
            if subject_part in message["Subject"] and body_part in body_of(message):
                return message
        time.sleep(0.5)
    raise AssertionError(f"no mail to {to} about {subject_part!r}:\n{stack.logs()}")


def test_consultant_sets_up_mfa_creates_an_organisation_and_project_and_invites_a_customer(
    stack, chromium, journey
):
    page = chromium.new_context().new_page()
    page.set_default_timeout(20_000)
    journey.consultant_page = page
    page.goto(f"{stack.url}/admin/")
    settle(page)
    page.get_by_label("Email", exact=True).fill(CONSULTANT)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    settle(page)
    # allauth asks for the password again before a security change.
    assert "/accounts/reauthenticate/" in page.url
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    settle(page)
    assert "/accounts/2fa/totp/activate/" in page.url
    secret = page.input_value("#authenticator_secret")
    settle(page)  # a second background fetch must not change the secret either
    page.locator("input[name=code]").fill(totp_now(secret))
    page.locator("main button[type=submit]").click()
    settle(page)
    assert "Incorrect code" not in page.content()
    page.get_by_role("link", name="Continue to admin").click()
    settle(page)
    assert page.url == f"{stack.url}/admin/"

    page.goto(f"{stack.url}/admin/accounts/organization/add/")
    settle(page)
    page.get_by_label("Name").fill("Initech Systems")
    page.get_by_label("Slug").click()  # the slug is filled from the name as it is typed
    assert page.get_by_label("Slug").input_value() == "initech-systems"
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    assert "was added successfully" in page.content()

    page.goto(f"{stack.url}/admin/uploads/uploadproject/add/")
    settle(page)
    page.get_by_label("Organisation").select_option(label="Initech Systems")
    page.get_by_label("Name").fill("Data Pump export")
    page.get_by_label("Slug").click()
    assert page.get_by_label("Slug").input_value() == "data-pump-export"
    page.get_by_label("Quota").fill("10 GiB")
    page.get_by_label("Largest file").fill("5 GB")
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    assert "was added successfully" in page.content(), page.locator(".errorlist").all_inner_texts()

    page.goto(f"{stack.url}/admin/accounts/invitation/add/")
    settle(page)
    page.get_by_label("Organisation").select_option(label="Initech Systems")
    page.get_by_label("Email").fill(CUSTOMER)
    page.get_by_label("Role").select_option("uploader")
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    assert "was added successfully" in page.content()
    invitation = wait_mail(stack, CUSTOMER, "invited")
    body = body_of(invitation)
    assert "Casey" in body and "Data Pump export" in body
    journey.done.add("consultant")


def test_customer_accepts_uploads_a_file_and_a_folder_sees_verified_live_and_resumes_after_closing(
    stack, chromium, journey, tmp_path
):
    if "consultant" not in journey.done:
        pytest.fail("the consultant's journey did not finish")
    link = re.search(r"http://\S+/invitations/\S+", body_of(wait_mail(stack, CUSTOMER, "invited"))).group(0)
    context = chromium.new_context()
    journey.customer_context = context
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(link)
    settle(page)
    page.get_by_label("Password:", exact=True).fill(CUSTOMER_PASSWORD)
    page.get_by_label("Password (again):").fill(CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    settle(page)
    page.get_by_role("link", name="Data Pump export").click()
    settle(page)
    assert page.get_by_text("No completed uploads yet.").is_visible()

    # One file through the picker a person clicks, then a folder with an empty file in it.
    dump = tmp_path / "expdp_full.dmp"
    journey.files[dump.name] = make_file(dump, 2 * PART + 12345)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose files").click()
    chooser.value.set_files(str(dump))
    folder = tmp_path / "export-logs"
    folder.mkdir()
    journey.files["export-logs/expdp.log"] = make_file(folder / "expdp.log", 4096)
    (folder / "empty.lst").write_bytes(b"")
    journey.files["export-logs/empty.lst"] = hashlib.sha256(b"").hexdigest()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose a folder").click()
    chooser.value.set_files(str(folder))

    # Without a reload: the completed list, space used and activity catch up, and each file
    # goes on to Verified.
    completed = page.locator("[data-live-section=completed]")
    for name in ("expdp_full.dmp", "expdp.log", "empty.lst"):
        row = completed.locator("tr", has_text=name)
        try:
            row.get_by_text("Verified").wait_for(timeout=90_000)
        except Exception:
            page.screenshot(path="/tmp/journey.png", full_page=True)
            raise AssertionError(page.locator("main").inner_text() + stack.logs(20000)) from None
    assert "0 B of" not in page.locator("[data-live-section=space]").inner_text()
    assert page.locator("[data-live-section=activity] tr[data-action='upload.verified']").count() == 3
    assert page.locator("[data-verification]", has_text="Verified").count() == 3
    assert page.get_by_text("No completed uploads yet.").count() == 0

    # A second dump: the tab closes after two of its four parts, and the next visit picks it up.
    big = tmp_path / "expdp_02.dmp"
    journey.files[big.name] = make_file(big, 3 * PART + 1000)
    # Storage slows down after two parts (the uploader retries the rest) until the tab closes;
    # the refused parts are answered in the browser, so none of them reaches storage.
    route = SlowDownAfter(page, 2)
    let_through, finished = route.let_through, route.stored
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose files").click()
    chooser.value.set_files(str(big))
    deadline = time.monotonic() + 60
    while len(finished) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert len(finished) == 2
    close_tab(page)

    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{stack.url}/projects/")
    settle(page)
    page.get_by_role("link", name="Data Pump export").click()
    settle(page)
    stored_parts = {part_number(u) for u in let_through}
    stored = sum(1000 if n == 4 else PART for n in stored_parts)
    row = page.locator("[data-live-section=in_progress] tr", has_text=big.name)
    assert f"{human_size(stored)} in storage" in row.inner_text()
    assert "pick the same file again" in page.locator("[data-live-section=in_progress]").inner_text()
    sent = part_puts(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose files").click()
    chooser.value.set_files(str(big))
    completed = page.locator("[data-live-section=completed]")
    completed.locator("tr", has_text=big.name).get_by_text("Verified").wait_for(timeout=90_000)
    # The parts the first tab stored are not sent again. A part that tab still had in flight
    # as it closed can land in storage afterwards (a real close can too): the resume lists
    # storage's parts and then skips it, so the rest is "all but those" or one fewer.
    assert sent and not set(sent) & stored_parts, (sent, stored_parts)
    assert set(sent) <= {1, 2, 3, 4} - stored_parts, (sent, stored_parts)
    assert page.locator("[data-live-section=in_progress]").get_by_text("No uploads in progress.").is_visible()
    journey.done.add("customer")


def test_consultant_finds_the_upload_its_checksums_the_email_downloads_it_and_audits_every_step(
    stack, chromium, journey, tmp_path
):
    # chromium: the consultant's page from the first journey lives in it.
    if "customer" not in journey.done:
        pytest.fail("the customer's journey did not finish")
    page = journey.consultant_page
    message = wait_mail(stack, CONSULTANT, "Data Pump export", "expdp_full.dmp")
    assert "1 of 1 file verified" in " ".join(message["Subject"].split())

    page.goto(f"{stack.url}/admin/uploads/upload/?q=expdp_full")
    settle(page)
    page.get_by_role("link", name="expdp_full.dmp").click()
    settle(page)
    sha = journey.files["expdp_full.dmp"]
    assert sha in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download")).click()
    saved = tmp_path / "downloaded.dmp"
    download.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == sha

    actions = [
        "auth.login.succeeded",
        "mfa.enabled",
        "invitation.created",
        "invitation.accepted",
        "upload.created",
        "upload.completed",
        "upload.verified",
        "upload.download_link_issued",
    ]
    for action in actions:
        page.goto(f"{stack.url}/admin/audit/auditevent/?action={action}")
        settle(page)
        assert page.locator("#result_list tbody tr").count() >= 1, f"no {action} in the audit log"
    page.goto(f"{stack.url}/admin/audit/auditevent/?action=auth.login.succeeded")
    logins = page.locator("#result_list").inner_text()
    assert CONSULTANT in logins and CUSTOMER in logins


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


def test_a_customer_uploads_with_the_keyboard_alone(stack, chromium, tmp_path):
    page = chromium.new_context().new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{stack.url}/accounts/login/")
    settle(page)
    # Tab to each field, type, Enter: no mouse anywhere.
    focused = "() => { const e = document.activeElement; return e && (e.id || e.textContent.trim()); }"

    def tab_to(target: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(focused) == target:
                return
        raise AssertionError(f"Tab never reached {target!r}")

    tab_to("id_login")
    page.keyboard.type("alice@acme.example")
    tab_to("id_password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{stack.url}/projects/")
    settle(page)
    tab_to("Oracle migration")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    settle(page)
    tab_to("Choose a folder")  # both pickers are reachable
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == "Choose files"
    path = tmp_path / "keyboard.csv"
    make_file(path, 2048)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(path))
    page.locator("[data-live-section=completed] tr", has_text=path.name).get_by_text("Verified").wait_for(
        timeout=90_000
    )


def test_customer_pages_pass_axe_wcag_2_1_aa(stack, chromium, tmp_path):
    # bypass_csp: axe is injected by the test, not served by the portal.
    page = chromium.new_context(bypass_csp=True).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{stack.url}/accounts/login/")
    settle(page)
    problems = {"sign-in": axe_violations(page)}
    page.get_by_label("Email", exact=True).fill("alice@acme.example")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    settle(page)
    problems["projects"] = axe_violations(page)
    page.get_by_role("link", name="Oracle migration").click()
    settle(page)
    path = tmp_path / "axe.csv"
    make_file(path, 1024)
    page.set_input_files("input[data-files]", str(path))
    page.locator("[data-live-section=completed] tr", has_text=path.name).get_by_text("Verified").wait_for(
        timeout=90_000
    )
    problems["project with uploads"] = axe_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
