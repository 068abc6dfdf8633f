"""Every checksum the portal shows, with who established it, in the words pages, emails and
receipts all use. "Checked by storage" and "recomputed by the portal" are the only claims
the portal itself vouches for; a value a browser or a customer sent says so."""

from dataclasses import dataclass

from uploads.models import Upload, VerificationResult

BY_STORAGE = "checked by storage"
COMPUTED_BY_STORAGE = "computed by storage"
BY_PORTAL = "recomputed by the portal"
BY_BROWSER = "computed by your browser"
DECLARED = "declared by you"


@dataclass(frozen=True)
class Claim:
    algorithm: str
    value: str
    who: str

    def __str__(self) -> str:
        return f"{self.algorithm} {self.value} ({self.who})"


def _verification(upload: Upload) -> VerificationResult | None:
    try:
        return upload.verification
    except VerificationResult.DoesNotExist:
        return None


def claims(upload: Upload) -> list[Claim]:
    v = _verification(upload)
    verified = v is not None and v.outcome == VerificationResult.Outcome.VERIFIED
    out = []
    crc = upload.checksum_crc64nvme or (v.object_crc64nvme if v else "")
    if crc:
        if upload.source == Upload.Source.CLI:
            who = COMPUTED_BY_STORAGE
        else:
            # Storage computes the CRC64NVME from the bytes it holds; verification compared
            # it with the browser's.
            who = BY_STORAGE if verified else BY_BROWSER
        out.append(Claim("CRC64NVME", crc, who))
    if v is not None and v.method == VerificationResult.Method.DEEP and v.object_sha256:
        out.append(Claim("SHA-256", v.object_sha256, BY_PORTAL))
    elif upload.checksum_sha256:
        matches = upload.declared_sha256 and upload.declared_sha256 == upload.checksum_sha256
        out.append(
            Claim("SHA-256", upload.checksum_sha256, BY_BROWSER + (", as you declared" if matches else ""))
        )
    elif upload.declared_sha256:
        out.append(Claim("SHA-256", upload.declared_sha256, DECLARED))
    return out


def portal_sha256(upload: Upload) -> str:
    """The whole file's SHA-256 as the portal recomputed it from the stored object ('' until
    a deep verification has)."""
    v = _verification(upload)
    return v.object_sha256 if v is not None and v.method == VerificationResult.Method.DEEP else ""
