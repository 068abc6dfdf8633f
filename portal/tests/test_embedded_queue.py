"""The embedded job queue (`make run`'s filesystem broker) shrugs off bad queue files: an
empty one left by a full disk, a torn one, and one that is not a kombu message are set
aside with a log line, the worker keeps running, and the next real task is done."""

import json
import time

import pytest
from kombu import Connection

from uploads import tasks
from uploads.models import Upload
from uploads.tests.helpers import bucket, small_parts  # noqa: F401, F811
from uploads.tests.test_worker_verification import upload_through_api
from uploads.tests.workerutils import Workers, wait_until

pytestmark = pytest.mark.usefixtures("small_parts")


@pytest.fixture
def embedded_worker(transactional_db, moto, bucket, tmp_path, settings):  # noqa: F811
    var = tmp_path / "var"
    queue = var / "celery" / "queue"
    queue.mkdir(parents=True)
    group = Workers(tmp_path, moto.url)
    group.env.update(CELERY_BROKER_URL="filesystem://", PORTAL_VAR_DIR=str(var))
    yield group, var
    group.stop_all()


def bad_file(queue, name: str, content: bytes) -> None:
    (queue / f"{int(time.monotonic() * 1000)}_{name}.celery.msg").write_bytes(content)


def publish_verify(var, upload_id: str) -> None:
    folder = str(var / "celery" / "queue")
    control = str(var / "celery" / "control")
    options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": control}
    with Connection("filesystem://", transport="portal.broker:Transport", transport_options=options) as conn:
        tasks.verify_upload.apply_async(args=[upload_id], connection=conn)


def test_bad_queue_files_are_set_aside_and_the_next_task_runs(embedded_worker, client, tenants):
    workers, var = embedded_worker
    queue = var / "celery" / "queue"
    # Left behind before the start (the disk filled): the worker must still start.
    bad_file(queue, "empty", b"")
    bad_file(queue, "torn", b'{"body": "eyJ')
    worker = workers.start()
    # And while it runs: a file that is JSON, but no message.
    bad_file(queue, "foreign", json.dumps({"hello": "world"}).encode())
    client.force_login(tenants.alice)
    upload_id = upload_through_api(client, tenants.project_a)
    publish_verify(var, upload_id)
    wait_until(
        lambda: Upload.objects.get(pk=upload_id).status == Upload.Status.VERIFIED,
        what="the task after the bad files",
    )
    assert worker.process.poll() is None, workers.logs()
    broken = {p.name.split("_", 1)[1].split(".")[0] for p in (var / "celery" / "broken").iterdir()}
    assert broken == {"empty", "foreign", "torn"}
    assert workers.logs().count("Set aside a queue file") == 3
    # What the task queued in turn (the notifications) is taken too: the queue drains.
    wait_until(lambda: not [p for p in queue.iterdir() if p.name.endswith(".msg")], what="an empty queue")
