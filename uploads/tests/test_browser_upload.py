"""Uploads of generated files from Chromium straight to the moto server, checked against
the stored object's bytes."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


@pytest.mark.parametrize("size_mib", [64, 300])
def test_it_uploads_a_file_byte_identical(page, live_server, tenants, tmp_path, size_mib):
    path = tmp_path / f"dump-{size_mib}.dmp"
    sha = make_file(path, size_mib * MIB + 12345)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=240)

    upload = Upload.objects.get(original_name=path.name)
    assert upload.status == Upload.Status.UPLOADED
    assert upload.size == path.stat().st_size
    assert upload.checksum_sha256 == sha
    assert stored_sha256(upload) == sha
    row = page.locator(f'li.completed-row[data-name="{path.name}"]')
    assert sha in row.inner_text()
