"""Several files dropped on the drop zone. The drop is synthetic: a DataTransfer built in the
page from real files (picked into a helper input) and dispatched as dragenter, dragover and
drop. A synthetic DataTransfer has no file-system entries, so this covers the dt.files path
of filesFromDataTransfer, not a dragged folder."""

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

# Functions, not expressions: the page's CSP forbids eval, which expressions need.
ADD_HELPER_INPUT = """() => {
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.hidden = true;
  input.id = "test-drop-source";
  document.body.append(input);
}"""

DATA_TRANSFER = """() => {
  const dt = new DataTransfer();
  for (const f of document.getElementById("test-drop-source").files) dt.items.add(f);
  return dt;
}"""


def test_it_uploads_files_dropped_on_the_drop_zone(page, live_server, tenants, tmp_path, settings):
    settings.UPLOAD_MIN_PART_SIZE = MIB
    settings.UPLOAD_PART_SIZE_UNIT = MIB
    sizes = {"schema.sql": 3_000, "ledger.dmp": 9 * MIB + 321, "audit.csv": 2 * MIB, "notes.txt": 1}
    expected = {}
    for i, (name, size) in enumerate(sizes.items()):
        expected[name] = make_file(tmp_path / name, size, seed=i)

    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page.evaluate(ADD_HELPER_INPUT)
    page.set_input_files("#test-drop-source", [str(tmp_path / name) for name in sizes])
    dt = page.evaluate_handle(DATA_TRANSFER)
    # No file-system entries in a DataTransfer built by script: the uploader falls back to
    # dt.files, the path this test covers.
    assert page.evaluate("(dt) => [...dt.items].map((i) => i.webkitGetAsEntry())", dt) == [None] * len(sizes)

    zone = page.locator("[data-dropzone]")
    zone.dispatch_event("dragenter", {"dataTransfer": dt})
    zone.dispatch_event("dragover", {"dataTransfer": dt})
    assert "over" in zone.get_attribute("class").split(), "the zone shows it will take the drop"
    zone.dispatch_event("drop", {"dataTransfer": dt})
    assert "over" not in zone.get_attribute("class").split()
    # One drop, one batch: every file gets its row at once.
    page.wait_for_function(
        "(n) => document.querySelectorAll('li.upload-row, li.completed-row').length === n", arg=len(sizes)
    )
    for name in sizes:
        wait_done(page, name, timeout_s=60)

    assert page.locator("li.completed-row").count() == len(sizes)
    assert page.locator("li.upload-row").count() == 0
    uploads = Upload.objects.filter(project=tenants.project_a)
    assert {u.original_name: u.checksum_sha256 for u in uploads} == expected
    assert len({u.batch_id for u in uploads}) == 1 and uploads[0].batch_id is not None
    for u in uploads:
        assert u.status == Upload.Status.UPLOADED
        assert u.relative_path == ""
        assert u.size == sizes[u.original_name]
        assert stored_sha256(u) == expected[u.original_name]
        row = page.locator(f'li.completed-row[data-name="{u.original_name}"]')
        assert expected[u.original_name] in row.inner_text()
