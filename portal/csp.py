"""Content-Security-Policy for the portal's own pages.

The uploader needs WebAssembly (hash-wasm: 'wasm-unsafe-eval') and talks to the S3
endpoint the browser signs for, so connect-src names it. No inline scripts anywhere.
Django's admin is left to its own defaults: it is staff-only and ships inline snippets.
"""

from urllib.parse import urlsplit

from django.conf import settings


def content_security_policy() -> str:
    s3 = settings.AWS_PUBLIC_ENDPOINT_URL
    if s3:
        parts = urlsplit(s3)
        s3_origin = f"{parts.scheme}://{parts.netloc}"
    else:
        # Real AWS with virtual-hosted or path-style regional endpoints.
        s3_origin = (
            f"https://*.s3.{settings.AWS_REGION}.amazonaws.com https://s3.{settings.AWS_REGION}.amazonaws.com"
        )
    return (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
        f"connect-src 'self' {s3_origin}; img-src 'self' data:; style-src 'self'; "
        # No form-action: "Sign in with SSO" posts to the portal, which redirects to the
        # IdP's authorize endpoint (known only from discovery), and Chromium applies
        # form-action to that redirect.
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            return response
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", content_security_policy())
        return response
