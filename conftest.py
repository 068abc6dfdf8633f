"""Shared test fixtures: the real services (PostgreSQL, Redis, a moto server over HTTP,
Debian's Chromium) and the demo-shaped tenants most tests need.

With REQUIRE_SERVICES=1 (CI) a missing service fails the run instead of skipping tests.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TEST_PASSWORD = "correct-horse-battery-staple"

# boto3 must never find real credentials or config on a developer's machine.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)
# Playwright's sync API keeps an asyncio loop running in the test thread, which makes
# Django refuse ORM calls from tests that also drive the browser. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Modules whose tests build on each other (one stack, one journey after another): under
# xdist they run in order on one worker.
KEEP_TOGETHER = {"portal/tests/test_journeys.py"}


def _rename(item, nodeid: str) -> None:
    # xdist schedules by node id, and its loadgroup mode reads the group after an "@" in
    # it. xdist 3.8 writes item._nodeid, which pytest 9.2 no longer reads (its node id is
    # item._id), so xdist_group marks alone would not keep a group together.
    if hasattr(item, "_id"):
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid


def pytest_collection_modifyitems(config, items):
    # Every test that reaches Chromium, directly or through a fixture, is a browser test:
    # `pytest -m "not browser"` is the fast loop, and nobody has to remember the marker.
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    if not hasattr(config, "workerinput"):
        return
    # schemathesis gives every API operation's test the same node id (the operation is only
    # in the name); xdist would run one of them and silently drop the rest.
    seen = Counter(item.nodeid for item in items)
    for item in items:
        if seen[item.nodeid] > 1 and item.name not in item.nodeid:
            _rename(item, f"{item.nodeid.rsplit('::', 1)[0]}::{item.name}")
        path = item.nodeid.split("::", 1)[0]
        if path in KEEP_TOGETHER:
            _rename(item, f"{item.nodeid}@{path}")
    # Browser tests are the long ones: started first, they do not leave one worker
    # finishing a ten-minute upload while the other has run out of work.
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)


def redis_db(url: str) -> int | None:
    """The database number of a redis:// (or django-environ rediscache://) URL, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediscache"):
        return None
    return int(parts.path.strip("/") or 0)


def with_redis_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def isolate_redis(worker_index: int, worker_count: int) -> None:
    """Give this xdist worker a Redis database of its own, taken from the ones named by
    CELERY_BROKER_URL and CACHE_URL: tests flush the broker's database and clear the
    cache, and rate limits are counted per client address (127.0.0.1 for every worker),
    so workers sharing a database would reset or trip each other's counters. One worker's
    broker and cache share its database; their keys do not overlap."""
    names = ("CELERY_BROKER_URL", "CACHE_URL")
    urls = {name: os.environ.get(name, "") for name in names}
    pool = list(dict.fromkeys(db for url in urls.values() if (db := redis_db(url)) is not None))
    if not pool:
        return
    if worker_count > len(pool):
        raise pytest.UsageError(
            f"{worker_count} xdist workers need {worker_count} Redis databases, one each, but "
            f"CELERY_BROKER_URL and CACHE_URL name only {pool}: run fewer workers (-n) or "
            "give the two URLs different database numbers"
        )
    db = pool[worker_index]
    from django.conf import settings
    from django.test.signals import setting_changed

    from portal.celery_app import app

    for name, url in urls.items():
        if redis_db(url) is not None:
            os.environ[name] = with_redis_db(url, db)
    # Settings were read before any conftest was imported: move them, and what caches them.
    if redis_db(settings.CELERY_BROKER_URL) is not None:
        settings.CELERY_BROKER_URL = with_redis_db(settings.CELERY_BROKER_URL, db)
        app.conf.broker_url = settings.CELERY_BROKER_URL
    cache = settings.CACHES["default"]
    if redis_db(str(cache.get("LOCATION", ""))) is not None:
        cache["LOCATION"] = with_redis_db(cache["LOCATION"], db)
        setting_changed.send(sender=type(settings), setting="CACHES", value=settings.CACHES, enter=True)


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput:
        index = int(workerinput["workerid"].removeprefix("gw"))
        isolate_redis(index, int(workerinput["workercount"]))
    if not REQUIRE_SERVICES:
        return
    db = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    problems = []
    if not db.startswith(("postgres://", "postgresql://")):
        problems.append(f"DATABASE_URL must point at PostgreSQL, got {db!r}")
    if not broker.startswith("redis://"):
        problems.append(f"CELERY_BROKER_URL must point at Redis, got {broker!r}")
    else:
        import redis

        try:
            redis.Redis.from_url(broker).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis at {broker} does not answer: {exc}")
    if not os.path.exists(CHROMIUM):
        problems.append(f"Chromium not found at {CHROMIUM}")
    if problems:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but:\n  " + "\n  ".join(problems))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class MotoServer:
    """A moto server process on 127.0.0.1, as the portal's S3/STS/IAM endpoint."""

    def __init__(self, extra_env: dict[str, str] | None = None, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        # Without this moto answers every origin with CORS headers, hiding a wrong bucket
        # CORS configuration.
        env["MOTO_DISABLE_GLOBAL_CORS"] = "true"
        env.update(extra_env or {})
        # The same patched moto `make run` starts (portal/local_s3.py).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal.local_s3", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=Path(__file__).parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("MOTO_DEBUG") else subprocess.DEVNULL,
        )
        wait_for_http(f"{self.url}/moto-api/")

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def set_auth(self, enforce: bool) -> None:
        """Turn moto's IAM-auth mode on (signatures and policies checked) or off."""
        body = b"0" if enforce else b"inf"
        # moto answers a form-encoded body with a 500: send it as plain text.
        req = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def moto_server():
    # Parts as small as 1 KiB, so tests can exercise thousands of parts without big files;
    # the portal's own minimum is a setting the tests lower to match.
    server = MotoServer({"S3_UPLOAD_PART_MIN_SIZE": "1024", "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": "1048576"})
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server, settings):
    """A clean moto server for this test, with the portal pointed at it."""
    moto_server.reset()
    settings.AWS_ENDPOINT_URL = moto_server.url
    settings.AWS_PUBLIC_ENDPOINT_URL = moto_server.url
    yield moto_server
    moto_server.set_auth(False)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        if REQUIRE_SERVICES:
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The tenants fixture creates seven users; the production hasher takes ~0.3 s each,
    # which was most of a sign-in test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def with_mfa(user):
    """Give the user a TOTP authenticator (once). Staff must have one before they reach
    admin, so make_user gives staff one unless a test is about setting it up."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return user


def without_mfa(user):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=user).delete()
    return user


# Tenants shaped like the demo: two organisations, each with an uploader, plus a viewer
# in the first and a consultant on the first one's account team.


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import User

    def make(email: str, *, staff: bool = False, superuser: bool = False, mfa: bool | None = None) -> User:
        user = User.objects.create_user(
            username=email,
            email=email,
            password=TEST_PASSWORD,
            is_staff=staff or superuser,
            is_superuser=superuser,
        )
        if user.is_staff if mfa is None else mfa:
            with_mfa(user)
        return user

    return make


@pytest.fixture
def tenants(db, make_user):
    from accounts.models import Membership, Organization
    from uploads.models import UploadProject

    class Tenants:
        pass

    t = Tenants()
    t.consultant = make_user("consultant@example.com", staff=True)
    t.other_consultant = make_user("other-consultant@example.com", staff=True)
    t.org_a = Organization.objects.create(name="Acme", slug="acme")
    t.org_b = Organization.objects.create(name="Globex", slug="globex")
    t.org_a.account_team.add(t.consultant)
    t.org_b.account_team.add(t.other_consultant)
    t.alice = make_user("alice@acme.example")
    t.victor = make_user("victor@acme.example")
    t.bob = make_user("bob@globex.example")
    Membership.objects.create(user=t.alice, organization=t.org_a, role=Membership.Role.UPLOADER)
    Membership.objects.create(user=t.victor, organization=t.org_a, role=Membership.Role.VIEWER)
    Membership.objects.create(user=t.bob, organization=t.org_b, role=Membership.Role.UPLOADER)
    # project_a has the browser compute the whole file's SHA-256 (the tests of that path and
    # of resuming its saved state use it); project_b, and new projects, leave it to the portal.
    t.project_a = UploadProject.objects.create(
        organization=t.org_a,
        name="Oracle migration",
        slug="oracle",
        created_by=t.consultant,
        sha256_in_browser=True,
    )
    t.project_b = UploadProject.objects.create(
        organization=t.org_b, name="Globex ledger", slug="ledger", created_by=t.other_consultant
    )
    return t
