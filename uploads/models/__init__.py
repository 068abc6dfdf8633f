"""The uploads app's models, one module per concern; import them from here."""

from uploads.models.expected import DumpFileSet, ExpectedFile
from uploads.models.notification import Notification, NotificationItem
from uploads.models.project import UploadProject
from uploads.models.records import CredentialRevocation, TaskLease, VerificationResult
from uploads.models.retention import DeletionCertificate
from uploads.models.upload import Upload, UploadInProgress, UploadPart

__all__ = [
    "CredentialRevocation",
    "DeletionCertificate",
    "DumpFileSet",
    "ExpectedFile",
    "Notification",
    "NotificationItem",
    "TaskLease",
    "Upload",
    "UploadInProgress",
    "UploadPart",
    "UploadProject",
    "VerificationResult",
]
