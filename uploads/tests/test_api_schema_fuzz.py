"""The API as an outside tester finds it: schemathesis generates requests from the OpenAPI
schema, valid and deliberately invalid, sent signed in (session cookie and CSRF token) through
the real middleware. No answer may be a 5xx or step outside the schema it states.

Bounded and derandomized, so CI runs the same few hundred cases every time."""

import itertools

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks

from uploads.api import api
from uploads.tests.helpers import create

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = WSGIHandler()

CSRF_TOKEN = "f" * 32
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]

# Ids to aim the generated requests at: the signed-in customer's own, another tenant's, and
# the schema's own made-up values. Cycled rather than drawn, so the run stays deterministic.
TARGETS = itertools.cycle(["own", "foreign", "generated"])
ids: dict[str, dict[str, object]] = {}
statuses: list[int] = []


@pytest.fixture
def signed_in(client, tenants, bucket):
    client.force_login(tenants.alice)
    own = create(client, tenants.project_a, 9000).json()
    client.force_login(tenants.bob)
    foreign = create(client, tenants.project_b, 9000).json()
    client.force_login(tenants.alice)
    ids["own"] = {"project_id": tenants.project_a.pk, "upload_id": own["id"]}
    ids["foreign"] = {"project_id": tenants.project_b.pk, "upload_id": foreign["id"]}
    # As Django's own test client does (and restores after each of its requests, hence only
    # now): a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {
        "headers": {"X-CSRFToken": CSRF_TOKEN, "Referer": "http://localhost/"},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_TOKEN},
    }
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    ids.clear()
    seen, statuses[:] = list(statuses), []
    # Signed in for real: some answers got past authentication and CSRF to the handler.
    assert any(status not in (401, 403) for status in seen), seen


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_stays_inside_the_schema(case, signed_in):
    # A path made invalid on purpose stays as generated; a valid one is aimed at real ids.
    target = None
    if case.path_parameters and not case._meta.is_negative_at(ParameterLocation.PATH):
        target = next(TARGETS)
        aimed = ids.get(target, {})
        case.path_parameters = {k: aimed.get(k, v) for k, v in case.path_parameters.items()}
    if case._meta.is_negative_at(ParameterLocation.COOKIE):
        # The session cookie left out or mangled on purpose: sent as generated, signed out.
        response = case.call_and_validate(checks=CHECKS, headers=signed_in["headers"])
    else:
        response = case.call_and_validate(checks=CHECKS, **signed_in)
    statuses.append(response.status_code)
    if target == "foreign":
        # Another tenant's project or upload does not exist for this customer, whatever else
        # is wrong with the request.
        assert response.status_code in (400, 401, 403, 404, 405, 422), (response.status_code, response.text)
