"""Errors the store raises on purpose; `app.py` maps each class to one HTTP status.

No HTTP types here: the store and the services raise these, the app's exception
handlers answer with the status and the message.
"""

from __future__ import annotations

from arinspect.errors import ArInspectError


class StoreError(ArInspectError):
    """Base class of the sync server's deliberate errors."""


class NotAuthenticatedError(StoreError):
    """No token, an unknown token or a revoked token (401)."""


class ForbiddenError(StoreError):
    """The caller's role may not do this (403)."""


class NotFoundError(StoreError):
    """An id names nothing stored (404)."""


class DuplicateError(StoreError):
    """An id or op id is already used by something else (409)."""


class InvalidInputError(StoreError):
    """A value is well-formed JSON but not acceptable (422)."""


class InvalidTransitionError(InvalidInputError):
    """A status change the workflow does not allow from the current status (422)."""


class PayloadTooLargeError(StoreError):
    """A body or upload exceeds its size limit (413)."""


class UnsupportedMediaTypeError(StoreError):
    """A body or upload of a content type the route does not take (415)."""
