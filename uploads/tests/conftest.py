import pytest

from uploads.tests.helpers import bucket, small_parts  # noqa: F401


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The tenants fixture creates five users; the production hasher takes ~0.5 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice_client(client, tenants):
    client.force_login(tenants.alice)
    return client
