"""The delivery a project asks for: expected files, and the dump file sets their logs name."""

import fnmatch
import re

from django.core.exceptions import ValidationError
from django.db import models

from uploads import datapump
from uploads.models.project import UploadProject
from uploads.models.upload import Upload

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class ExpectedFile(models.Model):
    """One entry of what the customer should send: a file name, a pattern (a Data Pump
    DUMPFILE template or a shell-style `*.csv`), or a Data Pump export log, whose dump
    file set the portal reads once it is verified."""

    class Kind(models.TextChoices):
        NAME = "name", "File name"
        PATTERN = "pattern", "Pattern or Data Pump file set"
        DATAPUMP_LOG = "datapump_log", "Data Pump export log"

    project = models.ForeignKey(UploadProject, on_delete=models.CASCADE, related_name="expected_files")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NAME)
    pattern = models.CharField(
        max_length=500,
        help_text="A file name (export.log), a DUMPFILE value (exp_%U.dmp or "
        "dir1:a_%U.dmp,dir2:b_%U.dmp) or a pattern with * and ?. Case does not matter.",
    )
    min_size = models.BigIntegerField(null=True, blank=True, help_text="Smallest acceptable size, bytes.")
    max_size = models.BigIntegerField(null=True, blank=True, help_text="Largest acceptable size, bytes.")
    declared_sha256 = models.CharField(
        "declared SHA-256",
        max_length=64,
        blank=True,
        help_text="For a single file: the SHA-256 the customer gave beforehand. The portal reads "
        "the stored file back and compares.",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project", "order", "id"]

    def __str__(self) -> str:
        return self.pattern

    def audit_scope(self):
        return self.project.organization, self.project

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.kind == self.Kind.PATTERN and "%" in self.pattern:
            try:
                datapump.parse_dumpfile(self.pattern)
            except ValueError as exc:
                errors["pattern"] = str(exc)
        if self.min_size is not None and self.max_size is not None and self.min_size > self.max_size:
            errors["max_size"] = "The largest size is below the smallest."
        if self.declared_sha256:
            if not SHA256_HEX.fullmatch(self.declared_sha256):
                errors["declared_sha256"] = "A SHA-256 is 64 hexadecimal characters."
            elif self.kind != self.Kind.NAME or any(c in self.pattern for c in "*?%"):
                errors["declared_sha256"] = "Only a single named file can have a declared SHA-256."
        if errors:
            raise ValidationError(errors)

    def matches(self, file_name: str) -> bool:
        """Whether a file of this name belongs to this entry (case-insensitive)."""
        if self.kind == self.Kind.PATTERN and "%" in self.pattern:
            try:
                return datapump.matches(self.pattern, file_name)
            except ValueError:
                return False
        if self.kind != self.Kind.NAME and any(c in self.pattern for c in "*?["):
            return fnmatch.fnmatchcase(file_name.casefold(), self.pattern.strip().casefold())
        return file_name.casefold() == self.pattern.strip().casefold()


class DumpFileSet(models.Model):
    """What one verified Data Pump log said about its set, read once from storage. The log
    has no sizes; those are checked against the expected entries' size ranges."""

    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="dump_file_set")
    job = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    files = models.JSONField(default=list, blank=True)
    read_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.job or 'unknown job'}: {len(self.files)} files"
