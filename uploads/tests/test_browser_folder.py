"""A folder of 50 files with nested paths, picked with the folder picker."""

import hashlib

import pytest

from uploads import s3
from uploads.models import Upload
from uploads.tests.browser import open_project, sign_in, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_it_uploads_a_folder_keeping_relative_paths(page, live_server, tenants, tmp_path):
    root = tmp_path / "export"
    expected = {}
    for i in range(50):
        sub = root / f"part{i % 3}" / ("deep" if i % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        data = f"row {i}\n".encode() * (100 + i * 37)
        path = sub / f"table{i:02}.csv"
        path.write_bytes(data)
        expected[path.relative_to(tmp_path).as_posix()] = hashlib.sha256(data).hexdigest()

    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-folder]", str(root))
    for rel in expected:
        wait_done(page, rel, timeout_s=120)

    uploads = Upload.objects.filter(project=tenants.project_a)
    assert {u.relative_path: u.checksum_sha256 for u in uploads} == expected
    assert len({u.batch_id for u in uploads}) == 1
    for u in uploads:
        assert u.status == Upload.Status.UPLOADED
        assert u.object_key.endswith(u.relative_path)
        assert hashlib.sha256(s3.get_object_bytes(u.object_key)).hexdigest() == expected[u.relative_path]
    assert page.locator("li.completed-row").count() == 50
