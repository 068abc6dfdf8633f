"""What the browser's part PUTs need from the bucket's CORS rule. Plain data, no Django, so
the portal's bucket setup, its preflight and the deployment in deploy/ share one list."""

# Headers every signed part PUT from the browser carries.
PART_HEADERS = (
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-amz-checksum-crc64nvme",
    "x-amz-sdk-checksum-algorithm",
)
# S3 matches "x-amz-*" as a pattern, but moto echoes the list verbatim and browsers do not
# treat "x-amz-*" as a wildcard, so the headers the uploader sends are also named one by one.
CORS_ALLOWED_HEADERS = [*PART_HEADERS, "x-amz-user-agent", "x-amz-*"]
# ETag above all: without it the browser cannot name its parts at complete.
CORS_EXPOSE_HEADERS = [
    "ETag",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-type",
    "x-amz-version-id",
    "x-amz-request-id",
]
