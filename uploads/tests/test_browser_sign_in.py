"""A customer signs in with a local account in a real browser and sees only their
organisation's projects."""

from conftest import TEST_PASSWORD


def test_customer_signs_in_and_sees_own_projects(transactional_db, live_server, page, tenants):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("alice@acme.example")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/projects/")
    assert page.get_by_role("heading", name="Your projects").is_visible()
    assert page.get_by_role("link", name="Oracle migration").is_visible()
    assert page.get_by_text("Globex ledger").count() == 0
    page.get_by_role("link", name="Oracle migration").click()
    assert page.get_by_role("heading", name="Uploads in progress").is_visible()


def test_wrong_password_is_refused(transactional_db, live_server, page, tenants):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("alice@acme.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    assert page.get_by_text("not correct").is_visible()
    assert "/accounts/login/" in page.url
