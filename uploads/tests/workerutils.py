"""A real Celery worker process for the background-work tests: `celery -A portal worker`
on the test database, the test Redis DB, the session's moto server, and a file-based
email backend the test reads back."""

import email
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SEPARATOR = "\n" + "-" * 79 + "\n"


def wait_until(predicate, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        name = f"test-{uuid.uuid4().hex[:8]}@%h"
        celery = str(Path(sys.executable).parent / "celery")
        self.process = subprocess.Popen(
            [
                celery,
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "-n",
                name,
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "-Q",
                "celery",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: "ready." in log.read_text(errors="replace") or self.process.poll() is not None,
            timeout=60,
            what="the worker to start",
        )
        if self.process.poll() is not None:
            raise AssertionError("worker exited:\n" + log.read_text(errors="replace")[-3000:])

    def kill(self) -> None:
        """SIGKILL the whole worker (no warm shutdown, no message handed back)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Workers:
    """Starts workers sharing one environment; remembers them to stop at teardown."""

    def __init__(self, tmp: Path, moto_url: str):
        self.tmp = tmp
        self.mail_dir = tmp / "mail"
        self.checkpoints = tmp / "checkpoints"
        self.mail_dir.mkdir()
        self.checkpoints.mkdir()
        self.started: list[Worker] = []
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=test_database_url(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            AWS_ENDPOINT_URL=moto_url,
            AWS_PUBLIC_ENDPOINT_URL=moto_url,
            UPLOAD_BUCKET=settings.UPLOAD_BUCKET,
            EMAIL_URL=f"filemail://{self.mail_dir}",
            TASK_LEASE_SECONDS="3",
            NOTIFY_BATCH_QUIET_SECONDS="0",
            TASK_TEST_CHECKPOINT_DIR=str(self.checkpoints),
            PORTAL_BASE_URL="https://portal.example",
            PYTHONUNBUFFERED="1",
        )

    def start(self) -> Worker:
        worker = Worker(self.env, self.tmp / f"worker{len(self.started)}.log")
        self.started.append(worker)
        return worker

    def hold(self, checkpoint: str) -> None:
        (self.checkpoints / f"{checkpoint}.hold").touch()

    def release(self, checkpoint: str) -> None:
        (self.checkpoints / f"{checkpoint}.hold").unlink(missing_ok=True)

    def reached(self, checkpoint: str) -> bool:
        return (self.checkpoints / f"{checkpoint}.reached").exists()

    def messages(self) -> list[email.message.Message]:
        out = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(SEPARATOR.encode()):
                if chunk.strip():
                    out.append(email.message_from_bytes(chunk))
        return out

    def logs(self) -> str:
        return "\n".join(w.log.read_text(errors="replace")[-4000:] for w in self.started)

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


@pytest.fixture(name="workers")
def workers_fixture(transactional_db, moto, bucket, tmp_path, settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("worker tests need CELERY_BROKER_URL pointing at Redis")
    import redis

    # Only this test run's Redis DB number is flushed, never the whole server.
    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    r.flushdb()
    group = Workers(tmp_path, moto.url)
    yield group
    group.stop_all()
    r.flushdb()
