"""The event catalogue: every action the audit log records, in one machine-readable list.

docs/audit.md is generated from (and checked against) this list, audit.record() uses its
field names as the allowlist for event data, and audit/tests/test_catalogue_coverage.py
walks it: each action must be emitted by the module named here and be written when the
behaviour happens. Add an action here first, then emit it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    # Modules that call audit.record() with this action (dotted paths).
    emitted_by: tuple[str, ...]
    # Keys allowed in the event's data. Nothing secret ever: no passwords, tokens, keys.
    fields: tuple[str, ...] = ()
    category: str = ""
    # Shown to customers on their project page (audit.activity).
    customer_visible: bool = False
    # Branch/issue that brings the emitting code, while it is not merged yet.
    # The text the emitting module's source contains (default: the name itself).
    emitted_as: str = ""


SIGN_IN = "Sign-in and MFA"
INVITATIONS = "Invitations"
MEMBERS = "Memberships and roles"
DIRECTORY = "The customer directory (Cognito)"
ADMIN = "Organisation, project and customer changes (admin)"
UPLOADS = "Uploads and credentials"
BACKGROUND = "Verification and reconciliation"
DELIVERY = "Expected files and delivery"
DELETION = "Retention and deletion"
NOTIFICATIONS = "Notifications"
REFUSED = "Refused requests"
AUDIT = "The audit log itself"

# Admin models audited by accounts.admin_scoping.StaffScopedAdmin, and the verbs each can
# have: invitations are created through accounts.invitations and never edited; uploads are
# read-only in admin (a superuser may delete one).
_ADMIN_MODELS = {
    "organization": ("an organisation", ("created", "changed", "deleted")),
    "uploadproject": ("an upload project", ("created", "changed", "deleted")),
    "customeruser": ("a customer user", ("created", "changed", "deleted")),
    "invitation": ("an invitation", ("deleted",)),
    "upload": ("an upload record", ("deleted",)),
}

_actions: list[Action] = [
    # Sign-in: accounts.signals (password sign-in, logout, MFA through allauth's signals) and
    # accounts.adapters (rate limit, SSO).
    Action(
        "auth.login.succeeded",
        "A user signed in (password or SSO).",
        ("accounts.signals",),
        (),
        SIGN_IN,
    ),
    Action(
        "auth.login.failed",
        "A sign-in attempt failed: a wrong password, the rate limit, a wrong MFA code, or a "
        "customer's password where the customer directory is Cognito (reason says which). "
        "The identifier tried is kept, never the password or code.",
        ("accounts.signals", "accounts.adapters"),
        ("identifier", "reason", "reauthentication"),
        SIGN_IN,
    ),
    Action("auth.logout", "A user signed out.", ("accounts.signals",), (), SIGN_IN),
    Action(
        "auth.sso.linked",
        "An invited SSO identity was connected to its user (first SSO sign-in).",
        ("accounts.adapters",),
        ("email", "provider", "identity_providers"),
        SIGN_IN,
    ),
    Action(
        "auth.sso.refused",
        "An SSO identity was refused (not invited, email not verified, IdP or domain not allowed "
        "for the organisation, staff account). Nothing is created.",
        ("accounts.adapters",),
        ("email", "provider", "identity_providers", "reason"),
        SIGN_IN,
    ),
    Action(
        "auth.sso.failed",
        "The SSO round trip failed (the IdP answered with an error or an invalid response).",
        ("accounts.adapters",),
        ("provider", "reason", "detail"),
        SIGN_IN,
    ),
    Action(
        "mfa.enabled",
        "A user added an MFA authenticator (TOTP app, or the recovery codes that come with it).",
        ("accounts.signals",),
        ("type",),
        SIGN_IN,
    ),
    Action(
        "mfa.disabled",
        "A user removed an MFA authenticator.",
        ("accounts.signals",),
        ("type",),
        SIGN_IN,
    ),
    Action(
        "mfa.reset",
        "A user generated new MFA recovery codes, replacing the old ones (the codes are never recorded).",
        ("accounts.signals",),
        ("type",),
        SIGN_IN,
    ),
    # Invitations: accounts.invitations (the service) and accounts.views (the link).
    Action(
        "invitation.created",
        "A consultant invited an email address to an organisation with a role.",
        ("accounts.invitations",),
        ("email", "role"),
        INVITATIONS,
    ),
    Action(
        "invitation.resent",
        "A consultant sent an invitation again (new link and expiry).",
        ("accounts.invitations",),
        ("email",),
        INVITATIONS,
    ),
    Action(
        "invitation.accepted",
        "The invited person accepted (method: password, sso or signed_in).",
        ("accounts.invitations",),
        ("email", "role", "method"),
        INVITATIONS,
    ),
    Action(
        "invitation.revoked",
        "A consultant revoked an invitation.",
        ("accounts.invitations",),
        ("email",),
        INVITATIONS,
    ),
    Action(
        "invitation.refused",
        "An invitation link was opened that is unknown, expired, revoked or already accepted "
        "(reason says which). The token is never recorded.",
        ("accounts.views",),
        ("email", "reason"),
        INVITATIONS,
    ),
    # The customer directory (CUSTOMER_DIRECTORY=cognito): accounts.directories.cognito.
    Action(
        "directory.user_created",
        "An invitation created (or, existed: found already there) the invitee's user in the "
        "Cognito user pool; directory_email: Cognito emailed its own invitation.",
        ("accounts.directories.cognito",),
        ("email", "directory", "existed", "directory_email"),
        DIRECTORY,
    ),
    Action(
        "directory.user_disabled",
        "A customer deactivated in admin was disabled in the Cognito user pool (existed: false "
        "if the pool had no such user).",
        ("accounts.directories.cognito",),
        ("email", "directory", "existed"),
        DIRECTORY,
    ),
    Action(
        "directory.user_enabled",
        "A customer activated again in admin was enabled in the Cognito user pool (existed: "
        "false if the pool had no such user).",
        ("accounts.directories.cognito",),
        ("email", "directory", "existed"),
        DIRECTORY,
    ),
    Action(
        "directory.failed",
        "Cognito refused or could not be reached (operation and the AWS error code say which); "
        "the portal kept its own change and staff were told how to retry.",
        ("accounts.directories.cognito",),
        ("email", "directory", "operation", "code"),
        DIRECTORY,
    ),
    # Memberships: accounts.admin.
    Action(
        "membership.added",
        "A customer user was added to an organisation with a role.",
        ("accounts.admin",),
        ("user", "role"),
        MEMBERS,
    ),
    Action(
        "membership.role_changed",
        "A customer user's role in an organisation was saved (role after the change).",
        ("accounts.admin",),
        ("user", "role"),
        MEMBERS,
    ),
    Action(
        "membership.removed",
        "A customer user was removed from an organisation.",
        ("accounts.admin",),
        ("user", "role"),
        MEMBERS,
    ),
    # Admin edits, with before/after values: accounts.admin_scoping.
    *[
        Action(
            f"admin.{model}.{verb}",
            f"A consultant {verb} {label} in admin."
            + (" Data holds every changed field's before and after value." if verb == "changed" else "")
            + (' Also written for each row of a bulk "delete selected".' if verb == "deleted" else ""),
            ("accounts.admin_scoping",),
            ("changes",) if verb != "deleted" else (),
            ADMIN,
            emitted_as='f"admin.{obj._meta.model_name}.',
        )
        for model, (label, verbs) in _ADMIN_MODELS.items()
        for verb in verbs
    ],
    # The upload lifecycle: uploads.lifecycle (called by uploads.api and uploads.admin).
    Action(
        "upload.created",
        "A customer started an upload (browser, or the AWS CLI path: source says which): name, "
        "path, size, object key and the planned parts.",
        ("uploads.lifecycle.create",),
        ("name", "relative_path", "size", "key", "part_size", "part_count", "source", "batch_id"),
        UPLOADS,
        customer_visible=True,
    ),
    Action(
        "upload.credentials_issued",
        "Temporary upload credentials were issued for one upload (browser or AWS CLI): expiry, "
        "lifetime, scope (the session policy's actions and resources), the session name and "
        "source identity CloudTrail shows, the access key id; never the secret or session token.",
        ("uploads.lifecycle.credentials",),
        ("expires_at", "seconds", "scope", "access_key_id", "session_name", "source_identity"),
        UPLOADS,
    ),
    Action(
        "credentials.revoked",
        "Live credentials were revoked through the bucket policy: a removed member's source "
        "identity, or a closed project's prefix.",
        ("uploads.lifecycle.revocation",),
        ("source_identity", "prefix", "reason", "until"),
        UPLOADS,
    ),
    Action(
        "upload.completed",
        "The portal completed the multipart upload: version id, ETag, checksums.",
        ("uploads.lifecycle.complete",),
        ("size", "version_id", "etag", "checksum_crc64nvme", "checksum_sha256"),
        UPLOADS,
        customer_visible=True,
    ),
    Action(
        "upload.aborted",
        "The customer cancelled an upload (its multipart upload is aborted on S3).",
        ("uploads.lifecycle.abort",),
        ("by",),
        UPLOADS,
        customer_visible=True,
    ),
    Action(
        "upload.failed",
        "Completing an upload failed: the checksum or size S3 stored did not match what the "
        "browser sent (reason says which; expected/received the CRC64NVME values, s3_error "
        "the code S3 refused the completion with; removed_version the object version a store "
        "that does not check checksums at complete had created, deleted by the portal).",
        ("uploads.lifecycle.complete",),
        ("reason", "expected", "received", "s3_error", "removed_version"),
        UPLOADS,
        customer_visible=True,
    ),
    Action(
        "upload.download_link_issued",
        "A consultant was given a download link for a received file (presigned GET of the "
        "recorded version, valid expires_in seconds); storage's own access log shows the download. Named "
        "`upload.downloaded_by_staff` before December 2026.",
        ("uploads.lifecycle.download",),
        ("version_id", "expires_in"),
        UPLOADS,
    ),
    # Background work: uploads.verification (the verify_upload task) and uploads.reconciliation
    # (the periodic reconcile task).
    Action(
        "upload.verified",
        "Verification confirmed a received file: the size S3 stored matches the plan and its "
        "full-object CRC64NVME the browser's (method metadata); with method deep the portal also "
        "read every byte back, and the SHA-256 it computed matches the browser's and the "
        "customer's declared one where they were given (where the browser left the SHA-256 to "
        "the portal, it is the one shown). Data holds the stored "
        "size, checksums, version and how long it took; no object bytes are kept.",
        ("uploads.verification",),
        ("method", "reason", "size", "crc64nvme", "sha256", "version_id", "duration_ms"),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "upload.verification_failed",
        "Verification found a received file that does not match: a different size or checksum, "
        "or the recorded version missing. Reason says which check failed.",
        ("uploads.verification",),
        ("method", "reason", "size", "crc64nvme", "sha256", "version_id", "duration_ms"),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "upload.received_unverified",
        "A file arrived with nothing to compare it with (an AWS CLI upload without a declared "
        "SHA-256): received, not verified.",
        ("uploads.verification",),
        ("method", "reason", "size", "crc64nvme", "sha256", "version_id", "duration_ms"),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "upload.received_cli",
        "An object the customer copied with the AWS CLI arrived at its key: its version was "
        "recorded and verification queued.",
        ("uploads.reconciliation",),
        ("version_id", "size"),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "upload.complete_interrupted",
        "A complete stayed unfinished past UPLOAD_COMPLETE_TIMEOUT_SECONDS (its web process "
        "died): S3 was asked what happened and the upload was recorded as completed, handed "
        "back for another complete, or failed.",
        ("uploads.lifecycle.complete",),
        ("outcome",),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "upload.stalled",
        "An upload sent no heartbeat for UPLOAD_STALLED_AFTER_SECONDS and was marked stalled "
        "(staff are told once).",
        ("uploads.reconciliation",),
        ("bytes_confirmed", "last_heartbeat"),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "upload.aborted_abandoned",
        "An unfinished upload passed the project's abandon limit (or its deadline and grace "
        "period): its multipart upload was aborted on S3 and the upload marked aborted.",
        ("uploads.reconciliation",),
        ("reason", "bytes_confirmed", "s3_multipart_aborted"),
        BACKGROUND,
        customer_visible=True,
    ),
    Action(
        "storage.orphan_multipart_aborted",
        "A multipart upload under a project's prefix that no upload record owns (older than a "
        "day) was aborted on S3.",
        ("uploads.reconciliation",),
        ("key",),
        BACKGROUND,
    ),
    Action(
        "upload.tampering_detected",
        "Something wrote to an upload's key outside the portal: the multipart upload vanished "
        "before completion (uploads.lifecycle.complete, at complete), a version other than the recorded "
        "one or an object on an aborted upload's key was current on it, asked by reconciliation "
        "while credentials lived and by the integrity sweep afterwards (uploads.integrity: "
        "recorded_version, found_version), or the final check after they expired found "
        "foreign versions or multipart uploads (uploads.integrity: findings; foreign multipart "
        "uploads aborted). Staff are told; the recorded version still counts.",
        ("uploads.lifecycle.complete", "uploads.integrity"),
        ("findings", "reason", "detail", "recorded_version", "found_version"),
        BACKGROUND,
    ),
    Action(
        "upload.object_missing",
        "The integrity sweep (or a staff download) found that storage no longer holds a "
        "received file's recorded version, or holds other data there. Staff are told once; "
        "the file shows as missing from storage and no download link is issued.",
        ("uploads.integrity",),
        ("version_id", "detail"),
        BACKGROUND,
    ),
    Action(
        "upload.object_restored",
        "A file flagged as missing from storage was found again at its recorded version.",
        ("uploads.integrity",),
        ("version_id",),
        BACKGROUND,
    ),
    Action(
        "project.closed_by_deadline",
        "An open project passed its deadline and grace period and was closed (credentials "
        "vended for it are revoked).",
        ("uploads.reconciliation",),
        ("open_until", "grace_period_hours"),
        BACKGROUND,
    ),
    # The delivery a project expects: uploads.admin (the list) and uploads.delivery.
    *[
        Action(
            f"admin.expectedfile.{verb}",
            f"A consultant {verb} an expected file (name, pattern or Data Pump log) on a project "
            "in admin. Data holds the entry's changed fields before and after"
            + (" (a removal, on the project)." if verb == "deleted" else "."),
            ("uploads.admin",),
            ("changes",),
            DELIVERY,
            emitted_as=f'"admin.expectedfile.{verb}"'
            if verb == "deleted"
            else 'f"admin.expectedfile.{verb}"',
        )
        for verb in ("created", "changed", "deleted")
    ],
    Action(
        "delivery.log_read",
        "A verified Data Pump export log was read once from storage: its job, the job's outcome "
        "and the file names its 'Dump file set' lines list (empty when it lists none).",
        ("uploads.delivery",),
        ("job", "outcome", "files"),
        DELIVERY,
    ),
    Action(
        "delivery.completed",
        "Every expected file of a project was verified for the first time (the log's whole set "
        "too): staff are told once. Data holds the number of entries and the files.",
        ("uploads.delivery",),
        ("entries", "files"),
        DELIVERY,
    ),
    # Retention and proven deletion: uploads.retention (the apply_retention task, and staff
    # deleting one file in admin).
    Action(
        "deletion.started",
        "A deletion began: a closed project's retention came due, or staff deleted one file on "
        "request. Its certificate is written before anything is deleted. Data holds the "
        "certificate and the rule (or staff's reason).",
        ("uploads.retention",),
        ("certificate", "rule"),
        DELETION,
    ),
    Action(
        "deletion.held",
        "A project's deletion came due but its legal hold stopped it: nothing was deleted.",
        ("uploads.retention",),
        ("rule",),
        DELETION,
    ),
    Action(
        "deletion.completed",
        "Every version and delete marker of the target (the project's prefix, or one file) and "
        "its unfinished multipart uploads were deleted and a second listing found nothing: the "
        "deletion certificate is complete. Data holds the certificate, the SHA-256 digest of "
        "its JSON (what the customer downloads), how many versions and bytes went, the rule "
        "and, for one file, the upload.",
        ("uploads.retention",),
        ("certificate", "digest", "versions", "bytes", "rule", "upload"),
        DELETION,
    ),
    # Notifications: uploads.notifications (the deliver_notification task).
    Action(
        "notification.sent",
        "A staff email, customer receipt or project webhook was delivered (kind, the outbox "
        "row, the uploads it lists). Never the webhook URL or its signing secret.",
        ("uploads.notifications",),
        ("kind", "notification", "uploads"),
        NOTIFICATIONS,
    ),
    Action(
        "notification.failed",
        "A notification was given up: the webhook URL was refused (not https, not public) or "
        "delivery kept failing until NOTIFY_MAX_ATTEMPTS. Error says why.",
        ("uploads.notifications",),
        ("kind", "notification", "error"),
        NOTIFICATIONS,
    ),
    # Refused requests.
    Action(
        "request.refused",
        "A request was refused before any rule ran: another tenant's or an unknown id (pages "
        "via audit.middleware, the JSON API via uploads.api), a forbidden page, API input that "
        "does not parse, or a failed CSRF check (portal.views, at most 10 a minute per address). "
        "The code, status and path say which.",
        ("audit.middleware", "uploads.api", "portal.views"),
        ("code", "message", "method", "path", "status"),
        REFUSED,
    ),
    Action(
        "upload.refused",
        "The upload rules refused a request: a viewer trying to upload, a bad name, size or "
        "checksum, a closed project, a quota or size limit, someone else's upload, parts that "
        "do not match the plan. Reason is the code the customer saw.",
        ("uploads.refusals",),
        ("reason", "message", "name", "size", "upload_status", "problems"),
        REFUSED,
    ),
    # The audit log itself (this app).
    Action(
        "audit.exported",
        "A consultant exported audit events (format and filters).",
        ("audit.admin",),
        ("format", "filters"),
        AUDIT,
    ),
    Action(
        "audit.archived",
        "The day's events and the chain head were written to the S3 archive.",
        ("audit.archive",),
        ("day", "keys", "count", "head_seq", "head_hash", "head_key"),
        AUDIT,
    ),
    Action(
        "audit.chain.broken",
        "verify_audit found the chain broken; staff were alerted.",
        ("audit.tasks",),
        ("broken_seq", "broken_id", "reason"),
        AUDIT,
    ),
]

ACTIONS: dict[str, Action] = {a.name: a for a in _actions}
assert len(ACTIONS) == len(_actions), "duplicate action names in the catalogue"

# Keys any event may carry besides its action's own fields.
COMMON_FIELDS: frozenset[str] = frozenset({"upload_id", "project_id", "note"})

ALLOWED_FIELDS: frozenset[str] = COMMON_FIELDS | {f for a in _actions for f in a.fields}

CUSTOMER_VISIBLE_ACTIONS: tuple[str, ...] = tuple(a.name for a in _actions if a.customer_visible)


def render_markdown() -> str:
    """The catalogue as the Markdown table in docs/audit.md (kept in sync by a test)."""
    lines = []
    for category in dict.fromkeys(a.category for a in _actions):
        lines += [
            f"### {category}",
            "",
            "| Action | When | Data fields | Emitted by |",
            "| --- | --- | --- | --- |",
        ]
        for a in (a for a in _actions if a.category == category):
            fields = ", ".join(f"`{f}`" for f in a.fields) or "—"
            where = ", ".join(f"`{m}`" for m in a.emitted_by)
            visible = " Shown to customers." if a.customer_visible else ""
            lines.append(f"| `{a.name}` | {a.description}{visible} | {fields} | {where} |")
        lines.append("")
    return "\n".join(lines)


START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"


def write_docs(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{START}\n{render_markdown()}{END}{tail}")


if __name__ == "__main__":
    # python -m audit.catalogue docs/audit.md  regenerates the table in the docs.
    import sys

    write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs/audit.md")
