"""The upload lifecycle JSON API (Django Ninja), mounted at /api/. Contract:
the OpenAPI schema served at /api/schema/ (browsable at /api/docs).

Thin handlers: tenancy first (a foreign id is a 404), then one service call. Every error
is JSON {"code", "message"}."""

from __future__ import annotations

import functools
from dataclasses import asdict
from typing import Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

import audit
from uploads import lifecycle, selectors
from uploads.api_schemas import (
    ERRORS,
    AbortOut,
    CliIn,
    CliOut,
    CompleteIn,
    CompleteOut,
    CreateUploadIn,
    CredentialsOut,
    PartsOut,
    ProgressIn,
    ProgressOut,
    UploadListOut,
    UploadOut,
    credentials_out,
    upload_out,
)
from uploads.refusals import UploadRefused
from uploads.tenancy import Tenancy


class PortalAPI(NinjaAPI):
    def create_response(self, request, data, *args, **kwargs):
        response = super().create_response(request, data, *args, **kwargs)
        # Every answer is about one signed-in person's uploads (keys, upload ids, secrets):
        # no browser or proxy may keep a copy.
        response["Cache-Control"] = "no-store"
        return response

    def _get_urls(self):
        # Ninja answers a wrong method in plain text; the contract is JSON for every error.
        return [
            URLPattern(p.pattern, _json_not_allowed(p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in super()._get_urls()
        ]


def _json_not_allowed(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response.get("Allow", "")
            response = JsonResponse(
                {"code": "method_not_allowed", "message": f"Use {allowed or 'another method'} here."},
                status=405,
            )
            response["Allow"] = allowed
            response["Cache-Control"] = "no-store"
        return response

    return wrapped


api = PortalAPI(
    title="Upload Portal API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
    openapi_url="/schema/",
    docs_url="/docs",
)


# Errors ------------------------------------------------------------------------------


def _error(request: HttpRequest, status: int, code: str, message: str):
    return api.create_response(request, {"code": code, "message": message}, status=status)


def _refused(request: HttpRequest, status: int, code: str, message: str):
    """An error answered before any upload rule ran (those audit themselves as
    upload.refused): a foreign or unknown id, or input that does not parse. Ninja turns
    Http404 into a response itself, so audit.middleware never sees it."""
    audit.record(
        "request.refused",
        actor=request.user,
        code=code,
        message=message,
        status=status,
        method=request.method,
        path=request.path[:500],
    )
    return _error(request, status, code, message)


@api.exception_handler(UploadRefused)
def refused(request, exc: UploadRefused):
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _refused(request, 404, "not_found", "No such project or upload, or it is not yours to see.")


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _refused(request, 413, "body_too_large", f"The request body is larger than {limit:,} bytes.")


@api.exception_handler(MultiPartParserError)
def bad_multipart(request, exc):
    return _refused(request, 400, "invalid_request", "The API takes JSON bodies, not form uploads.")


@api.exception_handler(AuthenticationError)
def not_signed_in(request, exc):
    return _error(request, 401, "not_authenticated", "Please sign in again.")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 403 and "CSRF" in str(exc):
        # Already audited by CSRF_FAILURE_VIEW, which ninja's CSRF check runs.
        return _error(request, 403, "csrf_failed", "Your session token is missing or stale; reload the page.")
    if exc.status_code == 400:
        # A body that does not parse (bad JSON, a form post with no boundary).
        return _refused(request, 400, "invalid_request", f"The request body could not be read: {exc}")
    return _error(request, exc.status_code, "error", str(exc))


@api.exception_handler(NinjaValidationError)
def invalid(request, exc: NinjaValidationError):
    fields = []
    for err in exc.errors:
        loc = ".".join(str(x) for x in err.get("loc", [])[1:]) or "body"
        fields.append(f"{loc}: {err.get('msg', 'invalid')}")
    return _refused(request, 422, "invalid_request", "The request is not valid: " + "; ".join(fields[:5]))


# Schemas -----------------------------------------------------------------------------


@api.post("/projects/{project_id}/uploads", response={201: UploadOut, **ERRORS})
def create_upload(request, project_id: int, body: CreateUploadIn):
    project = Tenancy(request.user).project(project_id)
    upload = lifecycle.create_upload(
        request.user,
        project,
        name=body.name,
        relative_path=body.relative_path,
        size=body.size,
        content_type=body.content_type,
        last_modified=body.last_modified,
        batch_id=body.batch_id,
        declared_sha256=body.declared_sha256,
    )
    return Status(201, upload_out(upload))


@api.get("/projects/{project_id}/uploads", response={200: UploadListOut, **ERRORS})
def list_uploads(
    request, project_id: int, state: Literal["in_progress", "all"] = "all", size: int | None = None
):
    project = Tenancy(request.user).project(project_id)
    items = []
    for u in selectors.list_uploads(request.user, project, state, size):
        item = upload_out(u)
        item.update(
            bytes_confirmed=u.bytes_confirmed,
            created_at=u.created_at,
            completed_at=u.completed_at,
            uploaded_by=(u.uploaded_by.email or u.uploaded_by.get_username()) if u.uploaded_by else "",
        )
        items.append(item)
    return {"uploads": items}


@api.post("/uploads/{upload_id}/credentials", response={200: CredentialsOut, **ERRORS})
def credentials(request, upload_id: str, response: HttpResponse):
    # Secrets must never sit in a browser or proxy cache.
    response["Cache-Control"] = "no-store"
    upload = Tenancy(request.user).upload(upload_id)
    issued = lifecycle.issue_credentials(request.user, upload)
    return credentials_out(issued)


@api.get("/uploads/{upload_id}/parts", response={200: PartsOut, **ERRORS})
def parts(request, upload_id: str):
    upload = Tenancy(request.user).upload(upload_id)
    return {
        "parts": [
            {**asdict(listed.part), "recorded_checksum_crc64nvme": listed.recorded_checksum_crc64nvme}
            for listed in selectors.list_parts(request.user, upload)
        ],
        "part_size": upload.part_size,
        "part_count": upload.part_count,
    }


@api.post("/uploads/{upload_id}/progress", response={200: ProgressOut, **ERRORS})
def progress(request, upload_id: str, body: ProgressIn):
    upload = Tenancy(request.user).upload(upload_id)
    accepted, retry_after = lifecycle.record_progress(
        request.user, upload, body.bytes_done, [p.dict() for p in body.parts]
    )
    return {"accepted": accepted, "retry_after": retry_after}


@api.post("/uploads/{upload_id}/complete", response={200: CompleteOut, **ERRORS})
def complete(request, upload_id: str, body: CompleteIn):
    upload = Tenancy(request.user).upload(upload_id)
    upload = lifecycle.complete_upload(request.user, upload, body.checksum_crc64nvme, body.checksum_sha256)
    return {
        "id": upload.id,
        "status": upload.status,
        "version_id": upload.version_id,
        "etag": upload.etag,
        "checksum_crc64nvme": upload.checksum_crc64nvme,
        "size": upload.size,
    }


@api.post("/uploads/{upload_id}/abort", response={200: AbortOut, **ERRORS})
def abort(request, upload_id: str):
    upload = Tenancy(request.user).upload(upload_id)
    upload = lifecycle.abort_upload(request.user, upload)
    return {"id": upload.id, "status": upload.status}


@api.post(
    "/projects/{project_id}/cli-credentials", response={201: CliOut, **ERRORS}, url_name="cli_credentials"
)
def cli_credentials(request, project_id: int, body: CliIn, response: HttpResponse):
    response["Cache-Control"] = "no-store"
    project = Tenancy(request.user).project(project_id)
    issued = lifecycle.create_cli_upload(
        request.user, project, name=body.name, size=body.size, declared_sha256=body.declared_sha256
    )
    return Status(
        201,
        {
            "upload": upload_out(issued.upload),
            "credentials": credentials_out(issued),
            "command": lifecycle.cli_command(issued.upload, issued.credentials),
        },
    )
