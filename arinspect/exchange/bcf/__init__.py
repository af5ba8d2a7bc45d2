"""BCF (BIM Collaboration Format) archives: read 2.1 and 3.0, write 3.0.

`read_bcf` unpacks an untrusted archive safely (`safety`) and reads it tolerantly
(`reader`) into the dataclasses of `model`; `write_bcf` (`writer`) writes BCF 3.0 and
validates every XML file against the official XSDs shipped in ``xsd/`` (`schemas`).
`camera` converts between arinspect's pinhole viewpoints and BCF perspective cameras.
Nothing here knows the database; the sync server maps its annotations onto topics.
"""

from arinspect.exchange.bcf.errors import BcfError
from arinspect.exchange.bcf.model import (
    BcfArchive,
    BimSnippet,
    Bitmap,
    Camera,
    ClippingPlane,
    Coloring,
    Comment,
    Component,
    Document,
    DocumentReference,
    Extensions,
    HeaderFile,
    Line,
    Topic,
    Viewpoint,
)
from arinspect.exchange.bcf.reader import read_bcf
from arinspect.exchange.bcf.safety import ArchiveLimits
from arinspect.exchange.bcf.writer import write_bcf

__all__ = [
    "ArchiveLimits",
    "BcfArchive",
    "BcfError",
    "BimSnippet",
    "Bitmap",
    "Camera",
    "ClippingPlane",
    "Coloring",
    "Comment",
    "Component",
    "Document",
    "DocumentReference",
    "Extensions",
    "HeaderFile",
    "Line",
    "Topic",
    "Viewpoint",
    "read_bcf",
    "write_bcf",
]
