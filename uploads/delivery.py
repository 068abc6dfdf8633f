"""Is the delivery complete? The project's expected files against what arrived.

Reads (`delivery_status`, `declared_sha256_for`) and the two writes that follow a
verification (`delivery_after_verification`: read a verified Data Pump log's file list once,
then mark the delivery complete and tell staff once). "Verified" is always the portal's own
verification (Upload.Status.VERIFIED), never what the customer's side claims.

A file belongs to the first entry (in the entries' order) whose name or pattern it matches.
When a name was uploaded more than once, its newest upload that was not cancelled counts.
Without a log the portal cannot know how many files a `%U` set has: such an entry is
verified once at least one file matched and every match is verified. Once a log is verified,
every file its "Dump file set" lines name is required, on the entry its name matches."""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

import audit
from portal.format import human_size
from uploads import datapump, dispatch, notifications, s3
from uploads.models import DumpFileSet, ExpectedFile, Upload, UploadProject

log = logging.getLogger(__name__)

# The "Dump file set" lines end an expdp log, so its tail is enough however many tables
# the log lists before them.
LOG_TAIL_BYTES = 4 * 1024 * 1024
MISSING_SHOWN = 5

WAITING, UPLOADING, RECEIVED, VERIFIED, PROBLEM = "waiting", "uploading", "received", "verified", "problem"
ENTRY_LABELS = {
    WAITING: "Waiting",
    UPLOADING: "Uploading",
    RECEIVED: "Received, verifying",
    VERIFIED: "Received and verified",
    PROBLEM: "Problem",
}
COMPLETE, IN_PROGRESS = "complete", "in_progress"
# The page's existing badge classes (portal.css) for each state.
BADGES = {
    WAITING: "",
    UPLOADING: "status-verifying",
    RECEIVED: "status-verifying",
    IN_PROGRESS: "status-verifying",
    VERIFIED: "ok",
    COMPLETE: "ok",
    PROBLEM: "status-failed",
}
OVERALL_LABELS = {
    WAITING: "Waiting for files",
    IN_PROGRESS: "Delivery in progress",
    PROBLEM: "Delivery has problems",
    COMPLETE: "Delivery complete",
}


@dataclass
class EntryStatus:
    entry: ExpectedFile
    files: list[Upload] = field(default_factory=list)
    # Names a verified log requires on this entry (as the log spells them).
    required: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    state: str = WAITING

    @property
    def label(self) -> str:
        return ENTRY_LABELS[self.state]

    @property
    def badge(self) -> str:
        return BADGES[self.state]


@dataclass(frozen=True)
class Delivery:
    entries: list[EntryStatus]
    unexpected: list[Upload]
    state: str
    completed_at: object = None

    @property
    def label(self) -> str:
        return OVERALL_LABELS[self.state]

    @property
    def badge(self) -> str:
        return BADGES[self.state]

    @property
    def is_complete(self) -> bool:
        return self.state == COMPLETE


def entry_for(entries: list[ExpectedFile], name: str) -> ExpectedFile | None:
    return next((e for e in entries if e.matches(name)), None)


def declared_sha256_for(upload: Upload) -> str:
    """The SHA-256 declared on the expected entry this upload is ('' when none), for
    verification to compare the stored bytes with."""
    entries = [e for e in upload.project.expected_files.all() if e.declared_sha256]
    entry = entry_for(entries, upload.original_name)
    return entry.declared_sha256.lower() if entry else ""


def _newest_per_name(project: UploadProject) -> list[Upload]:
    uploads = (
        project.uploads.exclude(status=Upload.Status.ABORTED)
        .select_related("verification", "dump_file_set")
        .order_by("-created_at")
    )
    newest: dict[str, Upload] = {}
    for upload in uploads:
        newest.setdefault(upload.original_name.casefold(), upload)
    return sorted(newest.values(), key=lambda u: u.original_name.casefold())


def _file_problems(entry: ExpectedFile, upload: Upload) -> list[str]:
    name = upload.original_name
    if upload.status == Upload.Status.FAILED:
        return [f"{name}: {upload.status_reason or 'failed'}"]
    if upload.missing_since:
        return [f"{name} is missing from storage"]
    problems = []
    if entry.min_size is not None and upload.size < entry.min_size:
        problems.append(
            f"{name}: wrong size, {human_size(upload.size)} (at least {human_size(entry.min_size)})"
        )
    if entry.max_size is not None and upload.size > entry.max_size:
        problems.append(
            f"{name}: wrong size, {human_size(upload.size)} (at most {human_size(entry.max_size)})"
        )
    if entry.declared_sha256 and upload.status == Upload.Status.VERIFIED:
        result = getattr(upload, "verification", None)
        stored = result.object_sha256 if result else ""
        if not stored:
            problems.append(f"{name}: SHA-256 not checked (verified before it was declared)")
        elif stored.lower() != entry.declared_sha256.lower():
            problems.append(f"{name}: checksum mismatch, SHA-256 {stored} (declared {entry.declared_sha256})")
    if entry.kind == ExpectedFile.Kind.DATAPUMP_LOG and upload.status == Upload.Status.VERIFIED:
        problems += _log_problems(upload)
    return problems


def _log_problems(upload: Upload) -> list[str]:
    dump_set = getattr(upload, "dump_file_set", None)
    if dump_set is None:
        return []
    if not dump_set.files:
        return [f"{upload.original_name} names no dump file set: the export may not have finished"]
    outcome = dump_set.outcome
    if outcome and outcome.lower() != "successfully completed":
        return [f"{upload.original_name}: the export job {outcome}"]
    return []


def _file_state(upload: Upload) -> str:
    if upload.status in Upload.IN_PROGRESS:
        return UPLOADING
    if upload.status == Upload.Status.VERIFIED:
        return VERIFIED
    return RECEIVED if upload.status in Upload.RECEIVED else PROBLEM


def _entry_state(status: EntryStatus) -> str:
    if status.problems:
        return PROBLEM
    if not status.files:
        return WAITING
    states = {_file_state(u) for u in status.files}
    if UPLOADING in states:
        return UPLOADING
    if RECEIVED in states:
        return RECEIVED
    if status.entry.kind == ExpectedFile.Kind.DATAPUMP_LOG and any(
        not hasattr(u, "dump_file_set") for u in status.files
    ):
        # Verified, but its file list is not read yet: the set is not known.
        return RECEIVED
    return VERIFIED


def _missing(status: EntryStatus) -> None:
    arrived = {u.original_name.casefold() for u in status.files}
    missing = [n for n in status.required if n.casefold() not in arrived]
    if not missing:
        return
    shown = ", ".join(missing[:MISSING_SHOWN])
    more = len(missing) - MISSING_SHOWN
    status.problems.append(f"missing {shown}" + (f" and {more} more" if more > 0 else ""))


def delivery_status(*, project: UploadProject) -> Delivery | None:
    """Each expected entry with its state and problems, the files nobody asked for, and the
    delivery's overall state. None when the project expects nothing in particular."""
    entries = list(project.expected_files.all())
    if not entries:
        return None
    statuses = {e.pk: EntryStatus(e) for e in entries}
    unexpected = []
    for upload in _newest_per_name(project):
        entry = entry_for(entries, upload.original_name)
        if entry is None:
            unexpected.append(upload)
        else:
            statuses[entry.pk].files.append(upload)
    # What verified logs say must be there, on the entry each name belongs to (the log's
    # own entry for a name no other entry matches).
    files_entries = [e for e in entries if e.kind != ExpectedFile.Kind.DATAPUMP_LOG]
    owner_of: dict[str, EntryStatus] = {}
    for status in list(statuses.values()):
        for upload in status.files:
            dump_set = getattr(upload, "dump_file_set", None)
            if upload.status != Upload.Status.VERIFIED or dump_set is None:
                continue
            for name in dump_set.files:
                owner = entry_for(files_entries, name)
                target = statuses[owner.pk] if owner else status
                if name.casefold() not in owner_of:
                    owner_of[name.casefold()] = target
                    target.required.append(name)
    for upload in [u for u in unexpected if u.original_name.casefold() in owner_of]:
        owner_of[upload.original_name.casefold()].files.append(upload)
        unexpected.remove(upload)
    for status in statuses.values():
        for upload in status.files:
            status.problems += _file_problems(status.entry, upload)
        _missing(status)
        status.state = _entry_state(status)
    ordered = [statuses[e.pk] for e in entries]
    return Delivery(ordered, unexpected, _overall(ordered), project.delivery_completed_at)


def _overall(statuses: list[EntryStatus]) -> str:
    states = {s.state for s in statuses}
    if PROBLEM in states:
        return PROBLEM
    if states == {VERIFIED}:
        return COMPLETE
    return WAITING if states == {WAITING} else IN_PROGRESS


def delivery_read_log(*, upload: Upload) -> DumpFileSet | None:
    """Read a verified Data Pump log's dump file set from storage, once. None when the upload
    is no expected log or is not verified."""
    if upload.status != Upload.Status.VERIFIED or DumpFileSet.objects.filter(upload=upload).exists():
        return None
    entry = entry_for(list(upload.project.expected_files.all()), upload.original_name)
    if entry is None or entry.kind != ExpectedFile.Kind.DATAPUMP_LOG:
        return None
    start = max(0, upload.size - LOG_TAIL_BYTES)
    data = (
        s3.get_range(upload.object_key, start, upload.size - 1, upload.version_id or None)
        if upload.size
        else b""
    )
    text = data.decode("utf-8", errors="replace")
    if start:
        text = text.split("\n", 1)[-1]  # the first line read is probably cut
    parsed = datapump.parse_log(text)
    with transaction.atomic():
        dump_set, created = DumpFileSet.objects.get_or_create(
            upload=upload,
            defaults={"job": parsed.job, "outcome": parsed.outcome, "files": list(parsed.files)},
        )
        if created:
            audit.record(
                "delivery.log_read",
                target=upload,
                job=parsed.job,
                outcome=parsed.outcome,
                files=list(parsed.files),
            )
    return dump_set


def delivery_mark_complete(*, project: UploadProject, upload: Upload) -> bool:
    """If the delivery is complete and was not before, remember it and queue the one staff
    notification. True only for the caller that did."""
    status = delivery_status(project=project)
    if status is None or not status.is_complete:
        return False
    with transaction.atomic():
        now = timezone.now()
        won = UploadProject.objects.filter(pk=project.pk, delivery_completed_at__isnull=True).update(
            delivery_completed_at=now
        )
        if not won:
            return False
        project.delivery_completed_at = now
        files = [u.original_name for s in status.entries for u in s.files]
        notifications.notify_delivery_complete(upload, files=files)
        audit.record("delivery.completed", target=project, entries=len(status.entries), files=files)
        transaction.on_commit(lambda: dispatch.deliver_now(notifications.due_ids()))
    return True


def delivery_after_verification(*, upload_id: str) -> None:
    """What a finished verification means for its project's delivery."""
    upload = Upload.objects.select_related("project__organization").filter(pk=upload_id).first()
    if upload is None or not upload.project.expected_files.exists():
        return
    try:
        delivery_read_log(upload=upload)
    except s3.StorageError as exc:
        # The log stays "received" on the page; staff see the entry is not settled.
        log.warning("Reading the Data Pump log %s failed: %s", upload.pk, exc)
        return
    if upload.project.delivery_completed_at is None:
        delivery_mark_complete(project=upload.project, upload=upload)


def delivery_read_missed_logs(*, limit: int = 100) -> int:
    """Verified uploads of projects expecting a Data Pump log whose set was never read (S3
    did not answer after verification): read them now, and settle their delivery. Run by
    the periodic reconciliation. Returns how many logs were read."""
    candidates = (
        Upload.objects.filter(
            status=Upload.Status.VERIFIED,
            project__expected_files__kind=ExpectedFile.Kind.DATAPUMP_LOG,
            dump_file_set__isnull=True,
        )
        .distinct()
        .order_by("completed_at")[:limit]
    )
    read = 0
    for upload in candidates:
        delivery_after_verification(upload_id=str(upload.pk))
        read += DumpFileSet.objects.filter(upload=upload).exists()
    return read
