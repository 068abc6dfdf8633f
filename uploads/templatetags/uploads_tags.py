"""Template filters over uploads that the model itself should not import."""

from django import template

from uploads import checksums
from uploads.models import Upload

register = template.Library()


@register.filter
def checksum_claims(upload: Upload) -> list[checksums.Claim]:
    """Each checksum shown for this upload and who established it."""
    return checksums.claims(upload)
