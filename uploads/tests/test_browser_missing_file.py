"""A file that storage lost after it was verified: the customer's project page stops saying
"Verified" and says "Missing from storage", and a consultant's download says so in the
portal's words instead of showing S3's XML."""

import pytest

from conftest import with_mfa
from uploads import integrity, s3, verification
from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_the_customer_and_staff_see_a_lost_file_said_plainly(page, browser, live_server, tenants, tmp_path):
    path = tmp_path / "expdp_lost.dmp"
    make_file(path, 9 * MIB)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)
    upload = Upload.objects.get(original_name=path.name)
    verification.verify(upload.pk)  # the worker's job (the journey tests run a real one)
    row = page.locator("[data-live-section=completed] tr", has_text=path.name)
    row.get_by_text("Verified").wait_for(timeout=30_000)

    # Deleted behind the portal's back (a console click, a lifecycle mistake); the periodic
    # sweep finds it.
    upload.refresh_from_db()
    s3.delete_object_version(upload.object_key, upload.version_id)
    assert integrity.sweep() == 1

    page.reload()
    badge = page.locator("[data-live-section=completed] tr", has_text=path.name).locator(".badge")
    assert badge.inner_text() == "Missing from storage"
    assert "status-missing" in badge.get_attribute("class")

    staff = browser.new_context().new_page()
    sign_in(staff, live_server, with_mfa(tenants.consultant))
    staff.goto(f"{live_server.url}/admin/uploads/upload/?q={path.name}")
    assert "Missing from storage" in staff.locator("#result_list").inner_text()
    staff.goto(f"{live_server.url}/admin/uploads/upload/{upload.pk}/download/")
    text = staff.locator("body").inner_text()
    assert "cannot be downloaded" in text and "no longer has this file" in text
    assert "<Error>" not in staff.content() and "SignatureDoesNotMatch" not in text
    staff.context.close()
