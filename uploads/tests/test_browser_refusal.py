"""A file the project cannot take is refused for good: no Resume, the reason in error styling,
and the picker offers only the project's file types. A drop beside the drop zone never opens
the file in the tab."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import open_project, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def test_a_file_type_the_project_refuses_offers_no_resume(page, live_server, tenants, tmp_path):
    tenants.project_a.allowed_extensions = "dmp, log"
    tenants.project_a.save()
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    assert page.get_attribute("input[data-files]", "accept") == ".dmp,.log"
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a dump")
    page.set_input_files("input[data-files]", str(path))
    row = page.locator('li.upload-row[data-name="notes.txt"]')
    row.and_(page.locator('[data-status="refused"]')).wait_for()
    assert row.locator(".state").inner_text() == "Not accepted"
    assert "only these file types: dmp, log" in row.locator(".detail").inner_text()
    assert "error" in row.get_attribute("class")
    assert row.locator("button.pause").is_hidden() and row.locator("button.cancel").is_hidden()
    assert "0 B of 0 B" in page.locator("[data-overall-text]").inner_text()
    row.get_by_role("button", name="Dismiss notes.txt").click()
    assert row.count() == 0
    assert not Upload.objects.exists()


def test_a_drop_outside_the_drop_zone_does_not_open_the_file(page, live_server, tenants):
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    url = page.url
    prevented = page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File(["x"], "stray.dmp"));
          const over = new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true });
          const drop = new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true });
          document.querySelector("h1").dispatchEvent(over);
          document.querySelector("h1").dispatchEvent(drop);
          return [over.defaultPrevented, drop.defaultPrevented];
        }"""
    )
    assert prevented == [True, True]
    assert page.url == url
    assert "Drop files on" in page.locator("p[data-status]").inner_text()
