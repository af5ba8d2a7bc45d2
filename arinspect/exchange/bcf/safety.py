"""Safe unpacking of an untrusted BCF archive and safe parsing of its XML.

An archive is refused, with a `BcfError` naming the archive and the entry, when it is
not a zip file, when an entry name is absolute, climbs out with ``..``, uses backslashes
or a drive letter, or repeats; when it has too many entries, an encrypted entry, an entry
larger than the limit, a total larger than the limit, or an entry whose compression ratio
betrays a zip bomb. Sizes are enforced on the bytes really inflated, never on the
sizes the archive declares. XML is parsed with defusedxml: no DTDs, no entities, no
external references.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from arinspect.exchange.bcf.errors import BcfError

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on an archive to unpack (bytes; ``max_ratio``: inflated / compressed)."""

    max_archive_bytes: int = 64 * 1024 * 1024
    max_entries: int = 2000
    max_entry_bytes: int = 32 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024


def check_entry_name(name: str, where: str) -> str:
    """Return ``name`` if it is a safe relative entry name, else raise `BcfError`."""
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or name.startswith("/")
        or _DRIVE.match(name)
        or any(p in ("..", ".") for p in parts)
    ):
        raise BcfError(where, "unsafe entry name (absolute, '..', '.', backslash or drive)",
                       repr(name))  # fmt: skip
    return name


def unpack(data: bytes, where: str, limits: ArchiveLimits | None = None) -> dict[str, bytes]:
    """Unpack a zip archive held in memory into ``{entry name: bytes}`` (folders skipped).

    Args:
        data: The archive bytes.
        where: The archive's name for error messages.
        limits: Size bounds; default `ArchiveLimits()`.

    Raises:
        BcfError: not a zip, or a limit or name rule broken (the message names the entry).
    """
    limits = limits or ArchiveLimits()
    if len(data) > limits.max_archive_bytes:
        raise BcfError(where, f"archive of {len(data)} bytes exceeds the limit of "
                       f"{limits.max_archive_bytes} bytes")  # fmt: skip
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BcfError(where, f"not a zip archive ({exc})") from exc
    if len(infos) > limits.max_entries:
        raise BcfError(where, f"{len(infos)} entries exceed the limit of {limits.max_entries}")
    entries: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in infos:
            name = check_entry_name(info.filename, where)
            if info.is_dir():
                continue
            if name in entries:
                raise BcfError(where, "entry appears twice", name)
            if info.flag_bits & 0x1:
                raise BcfError(where, "encrypted entries are not supported", name)
            content = _inflate(archive, info, where, limits)
            total += len(content)
            if total > limits.max_total_bytes:
                raise BcfError(where, f"unpacked size exceeds the limit of "
                               f"{limits.max_total_bytes} bytes", name)  # fmt: skip
            entries[name] = content
    return entries


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, limits: ArchiveLimits
) -> bytes:
    """Read one entry, stopping as soon as it passes the entry limit or the ratio limit."""
    name = info.filename
    compressed = max(info.compress_size, 1)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > limits.max_entry_bytes:
                    raise BcfError(where, f"entry exceeds the limit of "
                                   f"{limits.max_entry_bytes} bytes", name)  # fmt: skip
                if size > limits.ratio_floor_bytes and size / compressed > limits.max_ratio:
                    raise BcfError(where, f"compression ratio over {limits.max_ratio:g}:1 "
                                   "(zip bomb?)", name)  # fmt: skip
                chunks.append(chunk)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise BcfError(where, f"cannot inflate entry ({exc})", name) from exc
    return b"".join(chunks)


def parse_xml(data: bytes, where: str, entry: str) -> Element:
    """Parse untrusted XML (no DTD, no entities); `BcfError` names the entry on failure."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BcfError(where, f"forbidden XML construct ({type(exc).__name__}: DTDs and "
                       "entities are refused)", entry) from exc  # fmt: skip
    except ParseError as exc:
        raise BcfError(where, f"malformed XML ({exc})", entry) from exc
