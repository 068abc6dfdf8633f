"""A file picked before the uploader's script has loaded (a slow connection, a quick
customer) is still uploaded once it loads, not silently dropped."""

import re

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_it_takes_a_file_picked_before_the_script_ran(page, live_server, tenants, tmp_path):
    path = tmp_path / "early.dmp"
    sha = make_file(path, 9 * MIB)
    held = []
    page.route(re.compile(r".*/static/uploads/main\.js$"), lambda route: held.append(route))
    sign_in(page, live_server, tenants.alice)
    page.goto(f"{live_server.url}/projects/{tenants.project_a.pk}/", wait_until="commit")
    page.wait_for_selector("input[data-files]", state="attached")
    page.set_input_files("input[data-files]", str(path))
    assert len(held) == 1, "the uploader's script is still on its way"
    assert page.evaluate("() => window.uploader?.manager") is None

    held[0].continue_()
    wait_done(page, path.name, timeout_s=60)
    assert stored_sha256(Upload.objects.get(original_name=path.name)) == sha
