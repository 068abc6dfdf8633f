"""Benchmark: how much of a customer's uplink the parts phase fills on a long link, the
portal's page against boto3 upload_file on the same link, in one run.

Two links, as the product's customers have them: 400 Mbit/s at 40 ms round trip (a fast
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
from uploader_bench import SharedUplink, fresh_storage, run_boto3, run_uploader

from uploads import s3
from uploads.tests.browser import MIB, make_file, storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]
RESULTS = Path(__file__).parent / "results"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# (Mbit/s, round trip ms, file MiB): files long enough for half a minute or more per run.
LINKS = [(400, 40, 1024), (100, 120, 384)]


def link_share(size: int, seconds: float, mbit: int) -> float:
    return round(100 * size * 8 / seconds / (mbit * 1_000_000), 1)


@pytest.mark.skipif(not SharedUplink.available(), reason="needs root and tc to shape the loopback")
def test_latency_benchmark(browser, live_server, moto, tenants, tmp_path, settings):
    bucket = s3.bucket()
    out: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "links": []}
    for mbit, rtt_ms, size_mib in LINKS:
        path = tmp_path / f"link-{mbit}.bin"
        make_file(path, size_mib * MIB)
        size = path.stat().st_size
        runs: dict[str, list[dict]] = {"portal": [], "boto3": []}
        with DelayLine(moto.port, rtt_ms / 2000) as line, SharedUplink(line.port, mbit):
            settings.AWS_PUBLIC_ENDPOINT_URL = line.url
            for round_no in range(ROUNDS):
                order = ("portal", "boto3") if round_no % 2 == 0 else ("boto3", "portal")
                for client in order:
                    fresh_storage(moto)
                    if client == "portal":
                        r = run_uploader(browser, live_server, tenants, moto, path)
                        phases = r["phases_seconds_from_start"]
                        runs["portal"].append(
                            {
                                "parts_seconds": r["parts_seconds"],
                                "link_percent": link_share(size, r["parts_seconds"], mbit),
                                # From the first part's send, past the portal API calls before it.
                                "sending_seconds": round(phases["hashed"] - phases["sending"], 2),
                                "sending_link_percent": link_share(
                                    size, phases["hashed"] - phases["sending"], mbit
                                ),
                                "complete_seconds": round(phases["completed"] - phases["completing"], 2),
                                "concurrency": r["concurrency"],
                            }
                        )
                    else:
                        r = run_boto3(moto, bucket, path, endpoint_url=line.url)
                        runs["boto3"].append(
                            {
                                "parts_seconds": r["parts_seconds"],
                                "link_percent": link_share(size, r["parts_seconds"], mbit),
                                "sending_seconds": r["sending_seconds"],
                                "sending_link_percent": link_share(size, r["sending_seconds"], mbit),
                                "complete_seconds": r["complete_seconds"],
                            }
                        )
            settings.AWS_PUBLIC_ENDPOINT_URL = moto.url
        path.unlink()
        link = {"mbit_s": mbit, "round_trip_ms": rtt_ms, "size": size, "runs": runs}
        for client, rs in runs.items():
            link[f"{client}_median_link_percent"] = statistics.median(r["link_percent"] for r in rs)
            link[f"{client}_median_parts_seconds"] = statistics.median(r["parts_seconds"] for r in rs)
            link[f"{client}_median_sending_link_percent"] = statistics.median(
                r["sending_link_percent"] for r in rs
            )
        link["portal_vs_boto3"] = round(
            link["portal_median_link_percent"] / link["boto3_median_link_percent"], 2
        )
        out["links"].append(link)
    RESULTS.mkdir(exist_ok=True)
    name = RESULTS / f"latency-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
