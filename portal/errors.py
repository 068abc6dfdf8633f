"""Errors shared by the modules that call AWS (uploads.s3, accounts.cognito)."""


class AwsError(Exception):
    """An AWS call failed. `code` is AWS's error code ("NoSuchUpload", "UserNotFoundException",
    ...) or "Unavailable" when the service could not be reached."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
