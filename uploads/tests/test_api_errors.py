"""Every answer of the API stays inside its contract: JSON {"code", "message"}, never an HTML
page or a traceback, an audit event for each refusal, and no copy kept by a cache."""

import json

import pytest

from audit.models import AuditEvent
from uploads.tests.helpers import create, post_json


@pytest.fixture
def upload_id(alice_client, tenants, bucket):
    return create(alice_client, tenants.project_a, 9000).json()["id"]


def assert_contract(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]


class TestMalformedRequests:
    def test_a_body_over_the_limit_is_refused_in_json_and_audited(self, alice_client, upload_id, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        parts = [{"number": 1, "checksum_crc64nvme": "AAAAAAAAAAA="}] * 1000
        response = post_json(
            alice_client, f"/api/uploads/{upload_id}/progress", {"bytes_done": 0, "parts": parts}
        )
        assert_contract(response, 413, "body_too_large")
        assert AuditEvent.objects.filter(action="request.refused", data__code="body_too_large").exists()

    def test_a_progress_report_with_more_parts_than_s3_allows_is_refused(self, alice_client, upload_id):
        parts = [{"number": 1, "checksum_crc64nvme": "AAAAAAAAAAA="}] * 10_001
        response = post_json(
            alice_client, f"/api/uploads/{upload_id}/progress", {"bytes_done": 0, "parts": parts}
        )
        assert_contract(response, 422, "invalid_request")

    def test_a_form_post_without_a_boundary_is_refused_in_json(self, alice_client, tenants):
        response = alice_client.post(
            f"/api/projects/{tenants.project_a.pk}/uploads", data=b"x", content_type="multipart/form-data"
        )
        assert response.status_code in (400, 422)
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "invalid_request"

    def test_a_wrong_method_is_refused_in_json(self, alice_client, upload_id):
        response = alice_client.delete(f"/api/uploads/{upload_id}/parts")
        assert_contract(response, 405, "method_not_allowed")
        assert response["Allow"] == "GET"

    @pytest.mark.parametrize("size", [True, "10", 10.5])
    def test_sizes_must_be_whole_numbers_not_look_alikes(self, alice_client, tenants, bucket, size):
        response = post_json(
            alice_client, f"/api/projects/{tenants.project_a.pk}/uploads", {"name": "a.dmp", "size": size}
        )
        assert_contract(response, 422, "invalid_request")

    def test_a_name_longer_than_the_schema_allows_is_refused(self, alice_client, tenants, bucket):
        response = post_json(
            alice_client, f"/api/projects/{tenants.project_a.pk}/uploads", {"name": "a" * 1025, "size": 1}
        )
        assert_contract(response, 422, "invalid_request")


class TestCaching:
    def test_every_api_answer_says_no_store(self, alice_client, tenants, upload_id):
        for response in (
            alice_client.get(f"/api/projects/{tenants.project_a.pk}/uploads"),
            alice_client.get(f"/api/uploads/{upload_id}/parts"),
            alice_client.get("/api/uploads/00000000-0000-0000-0000-000000000000/parts"),
        ):
            assert response["Cache-Control"] == "no-store"


def test_the_schema_states_the_bounds():
    from uploads.api import api

    schema = api.get_openapi_schema()
    create_in = schema["components"]["schemas"]["CreateUploadIn"]["properties"]
    assert create_in["size"]["minimum"] == 0 and create_in["size"]["maximum"] == 5 * 1024**4
    assert create_in["name"]["maxLength"] == 1024
    progress = schema["components"]["schemas"]["ProgressIn"]["properties"]
    assert progress["parts"]["maxItems"] == 10_000
    json.dumps(schema)
