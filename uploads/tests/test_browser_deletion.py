"""Proven deletion as people meet it: the customer's project page says when the files will
be deleted; a consultant deletes one file in admin on the customer's request, with a
reason; the customer downloads the deletion certificate from the project page and it lists
the versions storage held, with the digest the audit chain holds."""

import json

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from conftest import with_mfa
from uploads import s3
from uploads.models import Upload, UploadProject
from uploads.tests.browser import MIB, make_file, open_project, sign_in, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_the_customer_keeps_a_certificate_of_what_staff_deleted(
    page, browser, live_server, tenants, tmp_path
):
    path = tmp_path / "sent_by_mistake.dmp"
    make_file(path, 6 * MIB)
    project = tenants.project_a
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, project)
    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)
    upload = Upload.objects.get(original_name=path.name)
    stored = s3.list_object_versions(upload.object_key)

    staff = browser.new_context().new_page()
    sign_in(staff, live_server, with_mfa(tenants.consultant))
    staff.goto(f"{live_server.url}/admin/uploads/upload/{upload.pk}/change/")
    staff.get_by_role("link", name="Delete this file from storage…").click()
    staff.get_by_label("Reason").fill("The customer sent it by mistake (ticket 4711)")
    staff.get_by_role("button", name="Delete the file from storage").click()
    assert "was deleted from storage" in staff.locator("ul.messagelist").inner_text()
    staff.context.close()
    assert s3.list_object_versions(upload.object_key) == []

    # Closed, with its files kept 30 days: the page says until when.
    project.status = UploadProject.Status.CLOSED
    project.retention_days = 30
    project.save()
    page.reload()
    due = (project.closed_at + timezone.timedelta(days=30)).astimezone(timezone.get_default_timezone())
    kept = page.locator("[data-retention]").inner_text()
    assert kept == f"Files will be deleted on {due.day} {due:%B %Y}."

    with page.expect_download() as download:
        page.get_by_role("link", name="One file").click()
    doc = json.loads(open(download.value.path()).read())
    assert doc["target"] == upload.object_key
    assert doc["rule"] == "The customer sent it by mistake (ticket 4711)"
    assert {v["version_id"] for v in doc["versions"]} == {v.version_id for v in stored}
    assert doc["verified_empty"] is True
    assert doc["digest_sha256"] == AuditEvent.objects.get(action="deletion.completed").data["digest"]
