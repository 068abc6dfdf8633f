import pytest

from uploads.tests.helpers import bucket, small_parts  # noqa: F401


@pytest.fixture
def alice_client(client, tenants):
    client.force_login(tenants.alice)
    return client
