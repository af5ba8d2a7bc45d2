"""The error every BCF reader and writer problem raises: what was wrong and where."""

from __future__ import annotations

from arinspect.errors import DataFormatError


class BcfError(DataFormatError):
    """A BCF archive is unsafe, malformed or invalid.

    ``path`` is the archive (its file name, or ``<bytes>``), ``field`` the entry inside it
    and, where known, the element (``topic-guid/markup.bcf: Topic/Title``).
    """
