"""The connection drops after the portal completed the upload but before its reply reached
the browser: the uploader asks again, learns the upload is complete, and says so."""

import re

import pytest

from audit.models import AuditEvent
from uploads import s3
from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_it_finishes_when_the_complete_reply_is_lost(page, live_server, tenants, tmp_path):
    path = tmp_path / "lost-reply.dmp"
    sha = make_file(path, 12 * MIB)
    calls = []

    def on_complete(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            route.fetch()  # the portal completes the upload...
            return route.abort("connectionreset")  # ...and its reply never arrives
        return route.continue_()

    page.route(re.compile(r".*/api/uploads/[^/]+/complete$"), on_complete)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)

    assert len(calls) == 2
    upload = Upload.objects.get(original_name=path.name)
    assert upload.status in Upload.RECEIVED
    assert stored_sha256(upload) == sha
    assert page.locator(f'li.completed-row[data-name="{path.name}"]').inner_text().endswith(sha)
    assert len(s3.list_object_versions(upload.object_key)) == 1
    assert AuditEvent.objects.filter(action="upload.completed").count() == 1
