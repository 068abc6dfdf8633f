"""Shared by the browser uploader tests: a bucket configured by the storage helper's own
setup code, a signed-in page on the live portal, generated files and the stored object's
SHA-256."""

import hashlib
import os
import re
from pathlib import Path

import pytest
from django.test import Client

from uploads import bucket as bucket_setup
from uploads import s3
from uploads.models import Upload

MIB = 1024 * 1024

# Playwright's sync API keeps an event loop on the test thread; the ORM calls in these tests
# are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def storage(moto, settings, live_server):
    settings.UPLOAD_BUCKET = "browser-uploads"
    settings.PORTAL_ORIGINS = [live_server.url]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return set_up_bucket()


def set_up_bucket() -> str:
    """The bucket as setup_storage configures it (CORS rule, versioning etc., not a copy in
    the tests), less its policy: that denies plain HTTP (aws:SecureTransport false), and the
    moto server here only speaks HTTP."""
    bucket_setup.setup_storage()
    s3.client().delete_bucket_policy(Bucket=s3.bucket())
    return s3.bucket()


PART = re.compile(r"[?&]partNumber=(\d+)")


# Functions, not expressions: the page's CSP forbids eval, which expressions need.
SAVED_STATES = """async () => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open("upload-portal", 1);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const all = await new Promise((resolve, reject) => {
    const req = db.transaction("uploads").objectStore("uploads").getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.close();
  return all.map((s) => ({ hashedThrough: s.hashedThrough, partCount: s.partCount, doneParts: s.doneParts,
    handle: s.handle ? s.handle.name : null }));
}"""
"""The uploader's saved resume states in IndexedDB, as `page.evaluate(SAVED_STATES)` returns
them: a few fields each, and the name of the file's handle where one was saved."""


class SlowDownAfter:
    """Part PUTs through a route that lets the first `parts` through and answers the rest
    503 Slow Down in the browser (none of those reaches storage; the uploader retries them
    with backoff). `stored` lists the part numbers answered 200, `let_through` the URLs the
    route passed on. `remove()` takes the route away."""

    PATTERN = re.compile(r".*partNumber=.*")

    def __init__(self, page, parts: int):
        self.page = page
        self.parts = parts
        self.stored: list[int] = []
        self.let_through: list[str] = []
        page.route(self.PATTERN, self._on_part)
        page.on("response", self._on_response)

    def _on_part(self, route):
        req = route.request
        if req.method != "PUT":
            return route.continue_()
        if len(self.let_through) >= self.parts:
            origin = req.headers["origin"]
            return route.fulfill(
                status=503,
                headers={"Content-Type": "application/xml", "Access-Control-Allow-Origin": origin},
                body="<?xml version='1.0'?><Error><Code>SlowDown</Code>"
                "<Message>Please reduce your request rate.</Message></Error>",
            )
        self.let_through.append(req.url)
        route.continue_()

    def _on_response(self, response):
        m = PART.search(response.url)
        if m and response.request.method == "PUT" and response.status == 200:
            self.stored.append(int(m.group(1)))

    def remove(self) -> None:
        self.page.unroute(self.PATTERN, self._on_part)


def part_puts(page, event: str = "requestfinished") -> list[int]:
    """Part numbers of the part PUTs the page makes, in order, as Chromium reports `event`
    for them ("request" when one starts, "requestfinished" when its answer is in)."""
    seen: list[int] = []

    def on_event(request):
        m = PART.search(request.url)
        if request.method == "PUT" and m:
            seen.append(int(m.group(1)))

    page.on(event, on_event)
    return seen


def counting(page, sent: dict[int, int]) -> None:
    """Route part PUTs through a counter of body bytes per part number: what crosses the
    wire, not what the uploader says it sent."""

    def on_part(route):
        req = route.request
        if req.method == "PUT":
            n = int(PART.search(req.url).group(1))
            sent[n] = sent.get(n, 0) + len(req.post_data_buffer or b"")
        route.continue_()

    page.route(re.compile(r".*partNumber=.*"), on_part)


def stored_parts(upload: Upload) -> dict[int, int]:
    """Part number to size, as S3 holds them for the upload."""
    return {p.number: p.size for p in s3.list_parts(upload.object_key, upload.multipart_upload_id)}


def pick_in_new_page(context, live_server, project, path: Path, sent: dict[int, int], before_pick=None):
    """A new page of `context` on the project, counting the part bytes it sends (`counting`),
    where the customer picks `path` again; the server must already list its unfinished
    upload. `before_pick(page)` runs just before the pick."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    counting(page, sent)
    open_project(page, live_server, project)
    assert path.name in page.locator("section[aria-labelledby=progress-h]").inner_text()
    if before_pick:
        before_pick(page)
    page.set_input_files("input[data-files]", str(path))
    return page


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def open_project(page, live_server, project) -> None:
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    # window.uploader is the section element (id="uploader") until main.js replaces it.
    page.wait_for_function("() => window.uploader?.manager !== undefined")


def make_file(path: Path, size: int, seed: int = 0) -> str:
    """Write `size` pseudo-random bytes (incompressible, fast) and return their SHA-256."""
    digest = hashlib.sha256()
    block = hashlib.sha256(str(seed).encode()).digest() * (MIB // 32)
    # A different block per MiB so equal parts never have equal checksums.
    with path.open("wb") as f:
        done = 0
        i = 0
        while done < size:
            chunk = (os.urandom(64) + block[64:])[: min(MIB, size - done)]
            f.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            i += 1
    return digest.hexdigest()


def stored_sha256(upload: Upload) -> str:
    digest = hashlib.sha256()
    # Streamed in ranges of a part's size, so a big file is never held in memory.
    step = 8 * 1024**2
    for start in range(0, upload.size, step):
        digest.update(s3.get_range(upload.object_key, start, start + step - 1, upload.version_id or None))
    return digest.hexdigest()


def wait_done(page, name: str, timeout_s: float = 120, stop_on=("failed", "changed", "paused")) -> None:
    """Wait until `name` is in the Completed list; fail at once if its row stops on an error."""
    page.wait_for_function(
        """([name, stopOn]) => {
          if (document.querySelector(`li.completed-row[data-name="${name}"]`)) return true;
          return [...document.querySelectorAll("li.upload-row")].some(
            (li) => li.dataset.name === name && stopOn.includes(li.dataset.status));
        }""",
        arg=[name, list(stop_on)],
        timeout=timeout_s * 1000,
    )
    if not page.locator(f'li.completed-row[data-name="{name}"]').count():
        row = page.locator(f'li.upload-row[data-name="{name}"]')
        raise AssertionError(f"{name} stopped: {row.inner_text()}")
