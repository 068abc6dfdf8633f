"""An upload's life, one step to a module: names and keys (`names`), the rules every step
applies (`rules`), create, credentials, progress, complete, abort, staff download and
revocation. Views, the API, admin actions and tasks call these; reads live in
`uploads.selectors`, IAM documents in `uploads.policies`, state changes in
`Upload.transition`, S3 and STS only in `uploads.s3`.

The steps callers use are importable from here."""

from uploads.lifecycle.abort import abort_upload
from uploads.lifecycle.complete import complete_upload, recover_interrupted_complete
from uploads.lifecycle.create import create_upload
from uploads.lifecycle.credentials import (
    IssuedCredentials,
    cli_command,
    cli_credentials_seconds,
    create_cli_upload,
    issue_credentials,
)
from uploads.lifecycle.download import staff_download_url
from uploads.lifecycle.progress import record_progress
from uploads.lifecycle.revocation import (
    apply_bucket_policy,
    apply_bucket_policy_safely,
    revoke_project_credentials,
    revoke_user_credentials,
)

__all__ = [
    "IssuedCredentials",
    "abort_upload",
    "apply_bucket_policy",
    "apply_bucket_policy_safely",
    "cli_command",
    "cli_credentials_seconds",
    "complete_upload",
    "create_cli_upload",
    "create_upload",
    "issue_credentials",
    "recover_interrupted_complete",
    "record_progress",
    "revoke_project_credentials",
    "revoke_user_credentials",
    "staff_download_url",
]
