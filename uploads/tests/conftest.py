import pytest

from uploads.tests.browser import storage  # noqa: F401
from uploads.tests.helpers import bucket, small_parts  # noqa: F401


@pytest.fixture
def small_plan(settings):
    # 1 MiB parts for browser tests: tens of parts, so faults, closes and outages land
    # mid-upload within seconds.
    settings.UPLOAD_MIN_PART_SIZE = 1024 * 1024
    settings.UPLOAD_PART_SIZE_UNIT = 1024 * 1024


@pytest.fixture
def alice_client(client, tenants):
    client.force_login(tenants.alice)
    return client
