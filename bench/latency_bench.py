"""Benchmark: how much of a customer's uplink the parts phase fills on a long link, the
portal's page against boto3 upload_file on the same link, in one run.

The clients: the portal's page (the project default, bench/uploader_bench.run_uploader),
boto3 upload_file (default config) and Uppy 6 (bench/peers_bench.run_peer; its create and
complete calls go to moto through the CORS shim, off the line, as the portal's do from its
server). Two links, as the product's customers have them: 400 Mbit/s at 40 ms round trip (a fast
office line in the bucket's region's continent) and 100 Mbit/s at 120 ms (a customer far
from the bucket's region). The rate is tc HTB on the loopback (bench/uploader_bench's
SharedUplink, root only); the round trip is bench/delay_line.DelayLine, a proxy in front of
moto that holds every byte half the round trip in each direction, since this kernel has no
netem qdisc. Both clients talk to S3 through that proxy only: the page through the portal's
AWS_PUBLIC_ENDPOINT_URL, boto3 through endpoint_url. The portal's own calls to S3 (create,
list, complete) go to moto directly, as they would from the bucket's region.

Reported per link and client, medians of BENCH_ROUNDS (3): the parts phase (the page: from
the pick until every part is stored and both hashes are done; boto3: until its complete
call starts) and its share of the link rate (file bytes; the HTTP and TCP/IP overhead rides
on top); the same from the first part's send (the page's "sending" mark, boto3's first
UploadPart), which leaves out the calls before it (the page's three to the portal, boto3's
create); the complete apart; and the page's parts-in-flight controller's history.

Run:  DATABASE_URL=... .venv/bin/python -m pytest -q -p no:cacheprovider \
        bench/latency_bench.py -o python_files=latency_bench.py -s
Writes bench/results/latency-<UTC time>.json and prints it.
"""

import json
import os
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest
from delay_line import DelayLine
from peers_bench import CorsShim, build_peers, peer_cors, run_peer
from uploader_bench import SharedUplink, fresh_storage, run_boto3, run_uploader

from uploads import s3
from uploads.tests.browser import MIB, make_file, storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
RESULTS = Path(__file__).parent / "results"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# (Mbit/s, round trip ms, file MiB): files long enough for half a minute or more per run.
LINKS = [(400, 40, 1024), (100, 120, 384)]
CLIENTS = ("portal", "boto3", "uppy")


def link_share(size: int, seconds: float, mbit: int) -> float:
    return round(100 * size * 8 / seconds / (mbit * 1_000_000), 1)


@pytest.mark.skipif(not SharedUplink.available(), reason="needs root and tc to shape the loopback")
def test_latency_benchmark(browser, live_server, moto, tenants, tmp_path, settings):
    out: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "links": []}
    build_peers()
    shim = CorsShim(moto.url, live_server.url)
    try:
        for mbit, rtt_ms, size_mib in LINKS:
            path = tmp_path / f"link-{mbit}.bin"
            make_file(path, size_mib * MIB)
            with DelayLine(moto.port, rtt_ms / 2000) as line, SharedUplink(line.port, mbit):
                settings.AWS_PUBLIC_ENDPOINT_URL = line.url
                runs = run_rounds(browser, live_server, moto, tenants, shim, path, line.url, mbit)
                settings.AWS_PUBLIC_ENDPOINT_URL = moto.url
            out["links"].append(summary(mbit, rtt_ms, path.stat().st_size, runs))
            path.unlink()
    finally:
        shim.stop()
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"latency-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


def run_rounds(browser, live_server, moto, tenants, shim, path: Path, url: str, mbit: int) -> dict:
    bucket = s3.bucket()
    size = path.stat().st_size
    runs: dict[str, list[dict]] = {c: [] for c in CLIENTS}
    for round_no in range(ROUNDS):
        for client in [*CLIENTS[round_no % len(CLIENTS) :], *CLIENTS[: round_no % len(CLIENTS)]]:
            fresh_storage(moto)
            if client == "portal":
                r = run_uploader(browser, live_server, tenants, moto, path)
                phases = r["phases_seconds_from_start"]
                parts_s = r["parts_seconds"]
                # From the first part's send, past the portal API calls before it.
                sending_s = phases["hashed"] - phases["sending"]
                complete_s = phases["completed"] - phases["completing"]
            elif client == "boto3":
                r = run_boto3(moto, bucket, path, endpoint_url=url)
                parts_s, sending_s, complete_s = (
                    r["parts_seconds"],
                    r["sending_seconds"],
                    r["complete_seconds"],
                )
            else:
                # Uppy's create and complete go to moto through the CORS shim, not the line.
                peer_cors(bucket)
                r = run_peer(browser, live_server, moto, shim, client, path, bucket, s3_url=url)
                parts_s = sending_s = r["parts_seconds"]
                complete_s = r["complete_seconds"]
            run = {
                "parts_seconds": round(parts_s, 2),
                "link_percent": link_share(size, parts_s, mbit),
                "sending_seconds": round(sending_s, 2),
                "sending_link_percent": link_share(size, sending_s, mbit),
                "complete_seconds": round(complete_s, 2),
            }
            if client == "portal":
                run["concurrency"] = r["concurrency"]
            print(f"{mbit} Mbit/s round {round_no + 1} {client}: {json.dumps(run)}", flush=True)
            runs[client].append(run)
    return runs


def summary(mbit: int, rtt_ms: int, size: int, runs: dict[str, list[dict]]) -> dict:
    link: dict = {"mbit_s": mbit, "round_trip_ms": rtt_ms, "size": size, "runs": runs}
    for client, rs in runs.items():
        link[f"{client}_median_link_percent"] = statistics.median(r["link_percent"] for r in rs)
        link[f"{client}_median_parts_seconds"] = statistics.median(r["parts_seconds"] for r in rs)
        link[f"{client}_median_sending_link_percent"] = statistics.median(
            r["sending_link_percent"] for r in rs
        )
    for other in ("boto3", "uppy"):
        link[f"portal_vs_{other}"] = round(
            link["portal_median_link_percent"] / link[f"{other}_median_link_percent"], 2
        )
    return link
