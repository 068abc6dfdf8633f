"""The portal as `make run` starts it, for the journey tests: the real `make run` (migrate,
seed_demo, then honcho with moto, the local IdP, runserver, the Celery worker and beat) on
free ports, with its state in a temporary folder. Nothing is faked or shortcut: the tests
reach it only as a browser (and a mail reader) would."""

import email
import os
import signal
import subprocess
import time
import urllib.request
from email.message import Message
from pathlib import Path

from conftest import ROOT, free_port

# Settings of the test's own process that must not leak into the embedded stack.
OWN_SERVICES = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE")
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


class Stack:
    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.web_port, self.moto_port, self.idp_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        self.log = var_dir / "make-run.log"
        env = {k: v for k, v in os.environ.items() if k not in OWN_SERVICES}
        env.update(
            PORTAL_VAR_DIR=str(var_dir),
            WEB_PORT=str(self.web_port),
            MOTO_PORT=str(self.moto_port),
            IDP_PORT=str(self.idp_port),
            PYTHONUNBUFFERED="1",
            # Shorter waits than a person's defaults, so a journey takes seconds, not minutes:
            # the page polls every 2 s and staff email goes out once a batch is quiet 2 s.
            PROJECT_PAGE_POLL_SECONDS="2",
            NOTIFY_BATCH_QUIET_SECONDS="2",
            SWEEP_INTERVAL_SECONDS="3",
        )
        self.process = subprocess.Popen(
            ["make", "-s", "run"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_for(f"{self.url}/accounts/login/", timeout=180)
        # The local S3 sets its bucket up just after it starts (public access blocked last);
        # a person reading the sign-in page is slower than that, a test is not.
        self._wait_for(f"{self.moto_url}/upload-portal?publicAccessBlock", timeout=60)

    def _wait_for(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"make run exited:\n{self.logs()}")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"make run did not serve {url}:\n{self.logs()}") from None
                time.sleep(0.5)

    def logs(self, tail: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-tail:]

    def mail(self) -> list[Message]:
        out = []
        for path in sorted((self.var_dir / "mail").glob("*.log")):
            for chunk in path.read_bytes().split(MAIL_SEPARATOR):
                if chunk.strip():
                    out.append(email.message_from_bytes(chunk))
        return out

    def mail_to(self, address: str) -> list[Message]:
        return [m for m in self.mail() if address in m["To"]]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def body_of(message: Message) -> str:
    if message.is_multipart():
        part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        return part.get_payload(decode=True).decode()
    return message.get_payload(decode=True).decode()
