import hashlib
import hmac
import http.server
import json
import socket
import ssl
import subprocess
import threading

import pytest

from audit.models import AuditEvent
from uploads import notifications, webhooks
from uploads.models import Notification
from uploads.tests.bgutils import make_upload, settle


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Receiver:
    """A real HTTPS endpoint on 127.0.0.1 that records what it is sent."""

    def __init__(self, cert, key):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", f"https://localhost:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://localhost:{self.port}/hooks/portal?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(certificate, monkeypatch, settings):
    cert, key = certificate
    server = Receiver(cert, key)
    # The one concession to a test: our loopback receiver counts as "public", and trusts
    # its self-signed certificate. Everything else (resolution, pinning, TLS, HMAC) is real.
    monkeypatch.setattr(webhooks, "_is_public", lambda address: True)
    monkeypatch.setattr(webhooks, "_ssl_context", lambda: ssl.create_default_context(cafile=str(cert)))
    settings.NOTIFY_BATCH_QUIET_SECONDS = 0
    yield server
    server.server.shutdown()


def deliver_webhooks():
    return [notifications.deliver(n.pk) for n in Notification.objects.filter(kind="webhook")]


class TestRefusals:
    @pytest.mark.parametrize(
        "url",
        [
            "http://hooks.example.com/x",
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://[::1]/x",
            "https://10.1.2.3/x",
            "https://172.16.0.5/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[fd00::1]/x",
            "https://user:pw@hooks.example.com/x",
            "ftp://hooks.example.com/x",
        ],
    )
    def test_it_refuses_without_connecting(self, url, monkeypatch):
        def no_connection(*args, **kwargs):
            raise AssertionError("a refused webhook must not open a connection")

        monkeypatch.setattr(socket, "create_connection", no_connection)
        with pytest.raises(webhooks.WebhookRefused):
            webhooks.post_json(url, {"text": "hi"}, "secret")

    def test_a_loopback_listener_receives_nothing(self, tenants, settings):
        settings.NOTIFY_BATCH_QUIET_SECONDS = 0
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        tenants.project_a.webhook_url = f"https://localhost:{port}/hook"
        tenants.project_a.save()
        settle(make_upload(tenants.project_a, user=tenants.alice))
        assert deliver_webhooks() == ["failed"]
        with pytest.raises(TimeoutError):
            listener.accept()
        listener.close()
        n = Notification.objects.get(kind="webhook")
        assert "non-public address" in n.last_error
        assert AuditEvent.objects.filter(action="notification.failed").count() == 1


class TestDelivery:
    def test_it_posts_signed_json(self, tenants, receiver):
        tenants.project_a.webhook_url = receiver.url
        tenants.project_a.save()
        settle(make_upload(tenants.project_a, user=tenants.alice, name="ledger.dmp", size=2048))
        assert deliver_webhooks() == ["sent"]
        (request,) = receiver.requests
        assert request["path"] == "/hooks/portal?x=1"
        tenants.project_a.refresh_from_db()
        secret = tenants.project_a.webhook_secret
        assert len(secret) == 64
        ts = request["headers"]["X-Portal-Timestamp"]
        expected = hmac.new(secret.encode(), ts.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Portal-Signature"] == "sha256=" + expected
        payload = json.loads(request["body"])
        assert payload["files"][0]["path"] == "ledger.dmp"
        assert payload["files"][0]["outcome"] == "verified"
        assert "ledger.dmp" in payload["text"]

    def test_slack_text_cannot_mention_or_link(self, tenants, receiver):
        tenants.project_a.webhook_url = receiver.url
        tenants.project_a.save()
        settle(
            make_upload(
                tenants.project_a, user=tenants.alice, name="<!channel> <@U123> <http://evil|x> @here.dmp"
            )
        )
        deliver_webhooks()
        text = json.loads(receiver.requests[0]["body"])["text"]
        assert "<" not in text and ">" not in text
        assert "&lt;!channel&gt;" in text
        assert "@here" not in text  # a word joiner follows every @
        assert json.loads(receiver.requests[0]["body"])["mrkdwn"] is False

    def test_it_does_not_follow_redirects(self, tenants, receiver):
        receiver.statuses = [302]
        tenants.project_a.webhook_url = receiver.url
        tenants.project_a.save()
        settle(make_upload(tenants.project_a, user=tenants.alice))
        assert deliver_webhooks() == ["failed"]
        assert len(receiver.requests) == 1
        assert "redirects are not followed" in Notification.objects.get(kind="webhook").last_error

    def test_it_retries_a_server_error_with_backoff(self, tenants, receiver):
        receiver.statuses = [503]
        tenants.project_a.webhook_url = receiver.url
        tenants.project_a.save()
        settle(make_upload(tenants.project_a, user=tenants.alice))
        assert deliver_webhooks() == ["pending"]
        n = Notification.objects.get(kind="webhook")
        assert n.attempts == 1 and "503" in n.last_error
        # Not due until the backoff has passed.
        assert notifications.deliver(n.pk) == "skipped"
        Notification.objects.filter(pk=n.pk).update(not_before=n.created_at)
        assert notifications.deliver(n.pk) == "sent"
        assert len(receiver.requests) == 2
