"""A customer whose computer clock is 20 minutes off still uploads: parts are signed with
the portal's time (from the credentials response), not the local clock."""

import re
import time
from datetime import UTC, datetime

import pytest

from uploads.models import Upload
from uploads.tests.browser import MIB, make_file, open_project, sign_in, stored_sha256, wait_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage")]

SKEW_MS = -20 * 60 * 1000
SLOW_CLOCK = """
(() => {
  const offset = OFFSET;
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) { if (args.length) super(...args); else super(RealDate.now() + offset); }
    static now() { return RealDate.now() + offset; }
  }
  globalThis.Date = SkewedDate;
})();
""".replace("OFFSET", str(SKEW_MS))


def test_it_signs_with_the_portals_clock_when_the_local_one_is_20_minutes_off(
    page, live_server, tenants, tmp_path, settings
):
    settings.UPLOAD_MIN_PART_SIZE = MIB
    settings.UPLOAD_PART_SIZE_UNIT = MIB
    path = tmp_path / "skew.dmp"
    sha = make_file(path, 12 * MIB)
    offsets = []

    def on_part(route):
        if route.request.method == "PUT":
            signed = datetime.strptime(route.request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=UTC
            )
            offsets.append(signed.timestamp() - time.time())
        route.continue_()

    page.add_init_script(SLOW_CLOCK)
    page.route(re.compile(r".*partNumber=.*"), on_part)
    sign_in(page, live_server, tenants.alice)
    open_project(page, live_server, tenants.project_a)
    page_skew = page.evaluate("Date.now()") - time.time() * 1000
    assert abs(page_skew - SKEW_MS) < 5_000, "the page's clock really is 20 minutes slow"

    page.set_input_files("input[data-files]", str(path))
    wait_done(page, path.name, timeout_s=60)

    assert len(offsets) == 12
    assert all(abs(o) < 60 for o in offsets), offsets
    assert stored_sha256(Upload.objects.get(original_name=path.name)) == sha
