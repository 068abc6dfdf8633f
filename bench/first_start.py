"""How long a new consultant waits: a clean clone of this repository, `make run` with empty
package caches, until the sign-in page answers. The reference measured in the same run is
the installer the Makefile used before (pip over the same requirements).

Usage: .venv/bin/python bench/first_start.py [--no-pip-reference]
Writes bench/results/first_start.json. Needs about 2 GB free in /tmp (venv and caches,
deleted afterwards); uses ports 8190, 5190 and 9190.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB, MOTO, IDP = 8190, 5190, 9190


def free_gb(path: str) -> float:
    return shutil.disk_usage(path).free / 1e9


def first_start(work: Path) -> dict:
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = dict(
        os.environ,
        UV_CACHE_DIR=str(work / "uv-cache"),
        npm_config_cache=str(work / "npm-cache"),
        WEB_PORT=str(WEB),
        MOTO_PORT=str(MOTO),
        IDP_PORT=str(IDP),
    )
    started = time.monotonic()
    log = (work / "run.log").open("wb")
    proc = subprocess.Popen(
        ["make", "-s", "run"], cwd=clone, env=env, stdout=log, stderr=log, start_new_session=True
    )
    installed = None
    try:
        while time.monotonic() - started < 600:
            if (
                installed is None
                and (clone / ".venv/bin/.installed").exists()
                and (clone / "node_modules/.installed").exists()
            ):
                installed = time.monotonic() - started
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{WEB}/accounts/login/", timeout=2) as r:
                    if r.status == 200:
                        return {
                            "install_seconds": round(installed or 0, 1),
                            "sign_in_page_seconds": round(time.monotonic() - started, 1),
                        }
            except OSError:
                pass
            if proc.poll() is not None:
                raise SystemExit("make run exited:\n" + (work / "run.log").read_text()[-2000:])
            time.sleep(0.5)
        raise SystemExit("no sign-in page within 600 s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def pip_reference(work: Path) -> float:
    venv = work / "pip-venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    started = time.monotonic()
    subprocess.run(
        [
            str(venv / "bin/pip"),
            "install",
            "-q",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "-r",
            str(ROOT / "requirements-dev.txt"),
        ],
        check=True,
    )
    return round(time.monotonic() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-pip-reference", action="store_true")
    args = parser.parse_args()
    if free_gb(tempfile.gettempdir()) < 4:
        raise SystemExit("refusing: less than 4 GB free in /tmp")
    with tempfile.TemporaryDirectory(prefix="first-start-") as tmp:
        work = Path(tmp)
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            **first_start(work),
        }
        if not args.no_pip_reference:
            result["pip_install_seconds_reference"] = pip_reference(work)
    out = ROOT / "bench/results/first_start.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
