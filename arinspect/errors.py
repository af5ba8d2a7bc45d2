"""Exception hierarchy of arinspect.

The command line turns any `ArInspectError` into a one-line message and exit code 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class ArInspectError(Exception):
    """Base class of every error that arinspect raises on purpose."""


class ConfigError(ArInspectError):
    """A command-line option or configuration value is invalid."""


class DataFormatError(ArInspectError):
    """A file on disk is missing, unreadable or malformed.

    Attributes:
        path: The offending file (or folder).
        field: Where in the file, e.g. ``parts[3].T_section_part``; empty if not known.
    """

    def __init__(self, path: str | Path, message: str, field: str = "") -> None:
        self.path = Path(path)
        self.field = field
        self.message = message
        where = f"{self.path}" + (f": {field}" if field else "")
        super().__init__(f"{where}: {message}")


class ShapeError(ArInspectError, ValueError):
    """An array argument has the wrong shape."""

    def __init__(self, name: str, actual: tuple[int, ...], expected: str) -> None:
        self.actual = actual
        self.expected = expected
        super().__init__(f"{name} has shape {actual}, expected {expected}")


class FrameMismatchError(ArInspectError, ValueError):
    """Two transforms were composed whose inner frames differ."""


class MissingDependencyError(ArInspectError, ImportError):
    """An optional dependency is not installed; the message names the extra."""
