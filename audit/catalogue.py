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
    pending_from: str = ""
    # The text the emitting module's source contains (default: the name itself).
    emitted_as: str = ""


SIGN_IN = "Sign-in and MFA"
INVITATIONS = "Invitations"
MEMBERS = "Memberships and roles"
ADMIN = "Organisation, project and customer changes (admin)"
UPLOADS = "Uploads and credentials"
BACKGROUND = "Verification and reconciliation"
REFUSED = "Refused requests"
AUDIT = "The audit log itself"

_ADMIN_MODELS = {
    "organization": "an organisation",
    "uploadproject": "an upload project",
    "customeruser": "a customer user",
}

_actions: list[Action] = [
    # Sign-in: accounts.signals (foundation); SSO refusals and MFA come with issue 3.
    Action(
        "auth.login.succeeded",
        "A user signed in (password or SSO).",
        ("accounts.signals",),
        ("method", "provider"),
        SIGN_IN,
    ),
    Action(
        "auth.login.failed",
        "A sign-in attempt failed; the identifier tried and the reason are kept, never the password.",
        ("accounts.signals",),
        ("identifier", "reason"),
        SIGN_IN,
    ),
    Action("auth.logout", "A user signed out.", ("accounts.signals",), (), SIGN_IN),
    Action(
        "auth.sso.refused",
        "An SSO identity was refused (not invited, email not verified, IdP or domain not allowed "
        "for the organisation, staff account). Nothing is created.",
        ("accounts.adapters",),
        ("email", "provider", "identity_provider", "reason"),
        SIGN_IN,
        pending_from="issue-3",
    ),
    Action(
        "mfa.enabled",
        "A user turned on an MFA method (TOTP).",
        ("accounts.mfa",),
        ("method",),
        SIGN_IN,
        pending_from="issue-3",
    ),
    Action(
        "mfa.disabled",
        "A user turned off an MFA method.",
        ("accounts.mfa",),
        ("method",),
        SIGN_IN,
        pending_from="issue-3",
    ),
    Action(
        "mfa.recovery_codes.generated",
        "A user generated new MFA recovery codes (the codes are never recorded).",
        ("accounts.mfa",),
        (),
        SIGN_IN,
        pending_from="issue-3",
    ),
    # Invitations (issue 3).
    Action(
        "invitation.created",
        "A consultant invited an email address to an organisation with a role.",
        ("accounts.invitations",),
        ("email", "role", "expires_at"),
        INVITATIONS,
        pending_from="issue-3",
    ),
    Action(
        "invitation.resent",
        "A consultant sent an invitation again (new expiry).",
        ("accounts.invitations",),
        ("email", "expires_at"),
        INVITATIONS,
        pending_from="issue-3",
    ),
    Action(
        "invitation.accepted",
        "The invited person accepted (local password or SSO).",
        ("accounts.invitations",),
        ("email", "role", "method"),
        INVITATIONS,
        pending_from="issue-3",
    ),
    Action(
        "invitation.revoked",
        "A consultant revoked an invitation.",
        ("accounts.invitations",),
        ("email",),
        INVITATIONS,
        pending_from="issue-3",
    ),
    Action(
        "invitation.refused",
        "An invitation link was used after expiry, after revocation or a second time.",
        ("accounts.invitations",),
        ("email", "reason"),
        INVITATIONS,
        pending_from="issue-3",
    ),
    # Memberships: accounts.admin (foundation).
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
    # Admin edits, with before/after values: accounts.admin_scoping (foundation).
    *[
        Action(
            f"admin.{model}.{verb}",
            f"A consultant {verb} {label} in admin."
            + (" Data holds every changed field's before and after value." if verb == "changed" else ""),
            ("accounts.admin_scoping",),
            ("changes",),
            ADMIN,
            emitted_as='f"admin.{obj._meta.model_name}.',
        )
        for model, label in _ADMIN_MODELS.items()
        for verb in ("created", "changed", "deleted")
    ],
    # Storage API (issue 4).
    Action(
        "upload.created",
        "A customer started an upload: name, path, size and the planned parts.",
        ("uploads.services",),
        ("name", "relative_path", "size", "key", "part_size", "part_count", "batch_id"),
        UPLOADS,
        customer_visible=True,
        pending_from="issue-4",
    ),
    Action(
        "credentials.issued",
        "Temporary upload credentials were issued for one upload: expiry and scope (the object "
        "key and allowed actions), never the secret or session token.",
        ("uploads.services",),
        ("expires_at", "duration_seconds", "scope", "key", "actions", "role_session_name", "source_identity"),
        UPLOADS,
        pending_from="issue-4",
    ),
    Action(
        "credentials.cli_issued",
        "Credentials for the AWS CLI path were issued for one server-created key.",
        ("uploads.services",),
        ("expires_at", "duration_seconds", "scope", "key", "actions", "name", "size"),
        UPLOADS,
        pending_from="issue-4",
    ),
    Action(
        "credentials.revoked",
        "Live credentials of a removed member or closed project were revoked.",
        ("uploads.services",),
        ("source_identity", "reason", "until"),
        UPLOADS,
        pending_from="issue-4",
    ),
    Action(
        "upload.completed",
        "The portal completed the multipart upload: version id, ETag, checksums.",
        ("uploads.services",),
        ("size", "version_id", "etag", "checksum_crc64nvme", "checksum_sha256"),
        UPLOADS,
        customer_visible=True,
        pending_from="issue-4",
    ),
    Action(
        "upload.aborted",
        "An upload was aborted, by the customer or by reconciliation (reason says which).",
        ("uploads.services", "uploads.tasks"),
        ("reason", "status"),
        UPLOADS,
        customer_visible=True,
        pending_from="issue-4, issue-6",
    ),
    Action(
        "upload.downloaded",
        "A consultant downloaded a received file (presigned GET of the recorded version).",
        ("uploads.admin",),
        ("version_id", "expires_at"),
        UPLOADS,
        pending_from="issue-4",
    ),
    # Background work (issue 6).
    Action(
        "upload.verified",
        "Verification confirmed size and checksums of a received file.",
        ("uploads.tasks",),
        ("size", "checksum_crc64nvme", "checksum_sha256", "deep"),
        BACKGROUND,
        customer_visible=True,
        pending_from="issue-6",
    ),
    Action(
        "upload.failed",
        "Verification failed (reason says which check).",
        ("uploads.tasks",),
        ("reason", "expected", "actual"),
        BACKGROUND,
        customer_visible=True,
        pending_from="issue-6",
    ),
    Action(
        "upload.stalled",
        "An upload had no progress for the configured time.",
        ("uploads.tasks",),
        ("last_progress_at", "bytes_confirmed"),
        BACKGROUND,
        customer_visible=True,
        pending_from="issue-6",
    ),
    Action(
        "upload.discovered",
        "An object that arrived through the CLI path got an upload record.",
        ("uploads.tasks",),
        ("key", "size", "version_id"),
        BACKGROUND,
        customer_visible=True,
        pending_from="issue-6",
    ),
    Action(
        "upload.tampering",
        "A foreign object version or multipart upload was found on an upload's key and flagged "
        "(the recorded version still counts).",
        ("uploads.tasks",),
        ("key", "version_id", "recorded_version_id", "reason"),
        BACKGROUND,
        pending_from="issue-6",
    ),
    Action(
        "project.closed",
        "A project passed its deadline and was closed.",
        ("uploads.tasks",),
        ("open_until", "reason"),
        BACKGROUND,
        pending_from="issue-6",
    ),
    # Refused requests: views that raise Http404/PermissionDenied (audit.context) and the
    # storage API's JSON errors (issue 4).
    Action(
        "request.refused",
        "A request was refused: a cross-tenant or unknown id, a forbidden page, a viewer trying "
        "to upload, bad input, a closed project, a quota or size limit. The code and path say which.",
        ("audit.context", "uploads.api"),
        ("code", "message", "method", "path", "status"),
        REFUSED,
        pending_from="issue-4",
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
            if a.pending_from:
                where += f" ({a.pending_from})"
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
