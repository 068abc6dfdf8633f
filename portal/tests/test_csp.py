import pytest


@pytest.mark.django_db
class TestContentSecurityPolicy:
    def test_pages_forbid_inline_scripts_and_allow_only_the_s3_endpoint(self, client, tenants, settings):
        settings.AWS_PUBLIC_ENDPOINT_URL = "https://s3.example.net:9000"
        client.force_login(tenants.alice)
        csp = client.get(f"/projects/{tenants.project_a.pk}/")["Content-Security-Policy"]
        assert "script-src 'self' 'wasm-unsafe-eval';" in csp
        assert "connect-src 'self' https://s3.example.net:9000;" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp

    def test_real_aws_allows_the_regional_s3_endpoints(self, client, tenants, settings):
        settings.AWS_PUBLIC_ENDPOINT_URL = None
        settings.AWS_REGION = "eu-west-2"
        csp = client.get("/accounts/login/")["Content-Security-Policy"]
        assert "https://*.s3.eu-west-2.amazonaws.com" in csp

    def test_pages_carry_no_inline_scripts(self, client, tenants):
        client.force_login(tenants.alice)
        html = client.get(f"/projects/{tenants.project_a.pk}/").content.decode()
        assert "<script>" not in html
        assert '<script type="module" src=' in html
