"""What the upload rules answer when they say no. Low in the house (it imports only audit),
so the model's state changes and every lifecycle step refuse the same way."""

from __future__ import annotations

from typing import NoReturn

import audit


class UploadRefused(Exception):
    """A request the rules refuse. `code` and `message` go to the customer as they are."""

    def __init__(self, code: str, message: str, status: int = 409):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def refuse(
    code: str, message: str, status: int = 409, *, user=None, target=None, project=None, **data
) -> NoReturn:
    """Audit a refusal and raise it. Refusals on bad input change nothing else."""
    audit.record(
        "upload.refused", actor=user, target=target, project=project, reason=code, message=message, **data
    )
    raise UploadRefused(code, message, status)


STORAGE_UNAVAILABLE = "File storage is not answering; please try again shortly."


def storage_unavailable(
    message: str = STORAGE_UNAVAILABLE,
) -> UploadRefused:
    """Storage did not answer: nothing changed, the customer may simply try again."""
    return UploadRefused("storage_unavailable", message, 503)
