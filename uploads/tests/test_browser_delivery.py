"""A customer sending a Data Pump export sees, on the project page and without reloading,
which file of the set the log says is still missing, then that the delivery is complete."""

import pytest

from uploads import verification
from uploads.models import ExpectedFile, Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, wait_done
from uploads.tests.test_datapump import FULL_LOG

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]


def verify_all() -> None:
    # The worker's job (the journey tests run a real one).
    for upload in Upload.objects.filter(status=Upload.Status.UPLOADED):
        verification.verify(upload.pk)


def test_the_page_says_what_is_missing_then_that_the_delivery_is_complete(
    page, live_server, tenants, tmp_path, settings
):
    settings.PROJECT_PAGE_POLL_SECONDS = 1
    project = tenants.project_a
    ExpectedFile.objects.create(project=project, kind="pattern", pattern="exp_%U.dmp", order=1)
    ExpectedFile.objects.create(project=project, kind="datapump_log", pattern="exp.log", order=2)
    log = tmp_path / "exp.log"
    log.write_text(FULL_LOG)
    dumps = [tmp_path / f"exp_0{n}.dmp" for n in (1, 2, 3)]
    for n, path in enumerate(dumps):
        make_file(path, 2 * MIB, seed=n)

    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, project)
    delivery = page.locator("[data-live-section=delivery]")
    assert "Waiting for files" in delivery.inner_text() and "exp_%U.dmp" in delivery.inner_text()

    page.set_input_files("input[data-files]", [str(log), str(dumps[0]), str(dumps[1])])
    for path in (log, dumps[0], dumps[1]):
        wait_done(page, path.name, timeout_s=60)
    verify_all()
    delivery.get_by_text("missing exp_03.dmp").wait_for(timeout=30_000)
    assert "Delivery has problems" in delivery.inner_text()

    page.set_input_files("input[data-files]", str(dumps[2]))
    wait_done(page, dumps[2].name, timeout_s=60)
    verify_all()
    delivery.get_by_text("Delivery complete").wait_for(timeout=30_000)
    assert "missing" not in delivery.inner_text()
