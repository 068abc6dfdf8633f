"""The customer's speed limit ("Use at most N Mbit/s"): honoured by the part PUTs the page
starts, changeable mid-upload, remembered by the browser, and gone when the field is cleared.

No wall-clock bounds: the page runs on Playwright's fake clock, paused, and the test moves it
on. The limiter admits bytes only as fake time passes, so what it lets through per second of
fake time does not depend on how busy the machine is; real time is only ever waited on for
something to happen, never measured."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, counting, make_file, open_project, sign_in, stored_sha256

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

LIMITER = "window.uploader.manager.limiter"
MBIT = 125_000  # bytes per second in one Mbit/s


def wait_for(page, expression: str, arg=None, timeout_ms: int = 30_000) -> None:
    """wait_for_function polling on an interval: its default polls on animation frames, which
    the paused fake clock stops."""
    page.wait_for_function(expression, arg=arg, polling=100, timeout=timeout_ms)


def limit_field(page):
    return page.get_by_role("spinbutton", name="Use at most Mbit/s", exact=True)


def admitted(page) -> int:
    return page.evaluate(f"() => {LIMITER}.admitted")


def run_seconds(page, seconds: int, rate: int) -> None:
    """Move the page's paused clock on a second at a time, each time once a part is waiting
    for the limit (waited for in real time, unmeasured), and check that the budget built up
    was used: the limit holds the upload back, it does not starve it."""
    before = admitted(page)
    for _ in range(seconds):
        wait_for(page, f"() => {LIMITER}.waiting.length > 0")
        page.clock.run_for(1000)
    assert admitted(page) - before >= rate * seconds - MIB


def assert_within(log: list[list[float]], rate: int, part: int) -> None:
    """No stretch of admissions in `log` ([fake ms, bytes]) let through more than `rate` per
    second of fake time, beyond the budget that may have built up before its first one: a
    part's worth, or a second's when that is more (ratelimit.js burstMs), plus the limiter's
    timer rounding (it wakes on whole milliseconds)."""
    head = max(part, rate)
    for i in range(len(log)):
        total = 0
        for j in range(i, len(log)):
            total += log[j][1]
            allowed = head + rate * (log[j][0] - log[i][0] + 1) / 1000
            assert total <= allowed, f"{total} bytes admitted in {log[j][0] - log[i][0]} ms at {rate} B/s"


def test_speed_limit_honoured_changed_remembered_cleared(page, live_server, tenants, tmp_path, small_plan):
    path = tmp_path / "limited.dmp"
    sha = make_file(path, 24 * MIB + 3)
    sent: dict[int, int] = {}
    counting(page, sent)
    sign_in(page, live_server, tenants.alice)
    page.clock.install()
    open_project(page, live_server, tenants.project_a)

    field = limit_field(page)
    assert field.input_value() == "", "no limit until the customer sets one"
    assert page.evaluate(f"() => {LIMITER}.bytesPerSecond") == 0
    field.fill("8")
    field.press("Enter")
    assert page.evaluate(f"() => {LIMITER}.bytesPerSecond") == 8 * MBIT

    # Remembered by the browser: a new load of the page starts with it.
    page.reload()
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    field = limit_field(page)
    assert field.input_value() == "8"
    assert page.evaluate(f"() => {LIMITER}.bytesPerSecond") == 8 * MBIT

    page.clock.pause_at(page.evaluate("() => Date.now()") + 1000)
    page.set_input_files("input[data-files]", str(path))
    run_seconds(page, 8, 8 * MBIT)
    first = page.evaluate(f"() => {LIMITER}.log")
    assert len(first) >= 4
    assert_within(first, 8 * MBIT, MIB)

    # Changed mid-upload: the next part goes by the new limit.
    field.fill("16")
    assert page.evaluate(f"() => {LIMITER}.bytesPerSecond") == 16 * MBIT
    run_seconds(page, 4, 16 * MBIT)
    log = page.evaluate(f"() => {LIMITER}.log")
    second = log[len(first) :]
    assert len(second) >= 4
    assert_within(second, 16 * MBIT, MIB)
    # Only what the limiter admitted went out (every part PUT started, counted at a route).
    wait_for(page, f"(n) => {LIMITER}.admitted === n", sum(p[1] for p in log))
    assert len(log) < 24, "the limit held the upload back"

    # Cleared: no cap at all, so the rest goes with the page's clock still paused.
    field.fill("")
    field.press("Tab")
    assert page.evaluate(f"() => {LIMITER}.bytesPerSecond") == 0
    assert "no speed limit" in page.get_by_role("status").inner_text()
    done = "(name) => document.querySelector(`li.completed-row[data-name='${name}']`)"
    wait_for(page, done, path.name, 60_000)
    upload = Upload.objects.get(original_name=path.name)
    assert stored_sha256(upload) == sha
    assert sum(sent.values()) == admitted(page) == upload.size, "every byte sent was admitted, once"

    page.reload()
    page.wait_for_function("() => window.uploader?.manager !== undefined")
    assert limit_field(page).input_value() == ""
    assert page.evaluate(f"() => {LIMITER}.bytesPerSecond") == 0
