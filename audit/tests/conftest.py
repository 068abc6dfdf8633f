import pytest


@pytest.fixture
def audit_bucket(moto_server, settings):
    """A clean moto server with the upload bucket (versioned, as in production) created.

    Uses moto_server directly: the shared `moto` fixture's teardown posts reset-auth as a
    form body, which moto 5.2.5 answers with 500 (reported to the lead)."""
    from uploads import s3

    moto_server.reset()
    settings.AWS_ENDPOINT_URL = moto_server.url
    settings.AWS_PUBLIC_ENDPOINT_URL = moto_server.url
    client = s3.client()
    client.create_bucket(Bucket=settings.UPLOAD_BUCKET)
    client.put_bucket_versioning(Bucket=settings.UPLOAD_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client
