import os

import pytest
from django.test import Client

from uploads.models import Upload

# Playwright's sync API runs an event loop in the test thread; the ORM calls made there
# (fixtures, database teardown) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.django_db(transaction=True)
def test_the_cli_panel_shows_a_ready_command(django_db_setup, live_server, page, tenants, bucket):
    client = Client()
    client.force_login(tenants.alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/projects/{tenants.project_a.pk}/")
    page.get_by_label("File name").fill("export.dmp")
    page.get_by_label("Size in bytes").fill("5000")
    page.get_by_role("button", name="Prepare the command").click()
    command = page.locator("#cli-command")
    command.wait_for()
    text = command.inner_text()
    assert "aws s3 cp export.dmp s3://test-uploads/acme/oracle/" in text
    assert "--checksum-algorithm CRC64NVME" in text and "AWS_SESSION_TOKEN=" in text
    assert Upload.objects.get().source == Upload.Source.CLI

    page.get_by_role("button", name="I have finished").click()
    status = page.locator("#cli-status")
    status.filter(has_text="has not arrived yet").wait_for()

    page.get_by_label("File name").fill("../evil.dmp")
    page.get_by_role("button", name="Prepare the command").click()
    page.locator("#cli-error").filter(has_text="cannot contain '/'").wait_for()
