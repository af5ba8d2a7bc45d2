"""Tolerant reader of BCF 2.1 and 3.0 archives into `BcfArchive`.

Elements are looked up by local name wherever they sit in their parent, so files with
elements out of XSD order (real tools write them) and namespaced files are read; the
2.1 layout (comments and viewpoints beside the topic, ``ViewSetupHints`` under
``Components``, repeated ``Labels``/``ReferenceLink``/``DocumentReference``) and the 3.0
layout are both understood. Guids are normalised to lower case. The archive is unpacked
with the checks of `safety.unpack` first; a malformed value raises `BcfError` with the
entry and element.
"""

from __future__ import annotations

import math
import posixpath
import uuid
from pathlib import Path
from xml.etree.ElementTree import Element

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
    Vec3,
    Viewpoint,
)
from arinspect.exchange.bcf.safety import ArchiveLimits, check_entry_name, parse_xml, unpack

DOCUMENT_NAMESPACE = uuid.UUID("6f0b5e2c-5d0b-4b8e-9a43-2f1f3c1d7a10")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(parent: Element | None, name: str) -> list[Element]:
    return [] if parent is None else [c for c in parent if _local(c.tag) == name]


def _child(parent: Element | None, name: str) -> Element | None:
    found = _children(parent, name)
    return found[0] if found else None


def _text(parent: Element | None, name: str) -> str | None:
    element = _child(parent, name)
    if element is None or element.text is None or not element.text.strip():
        return None
    return element.text.strip()


def _attr(element: Element, name: str) -> str | None:
    """An attribute by local name, case-insensitive (2.1 writes ``isExternal``)."""
    for key, value in element.attrib.items():
        if _local(key).lower() == name.lower():
            return value.strip()
    return None


def _bool(value: str | None, default: bool | None) -> bool | None:
    if value is None:
        return default
    return value.strip().lower() in ("true", "1")


class _Reader:
    """Reads one archive's entries; ``where`` names it in errors."""

    def __init__(self, entries: dict[str, bytes], where: str) -> None:
        self.entries = entries
        self.where = where
        self.documents: dict[str, Document] = {}

    def xml(self, name: str) -> Element:
        return parse_xml(self.entries[name], self.where, name)

    def fail(self, entry: str, message: str) -> BcfError:
        return BcfError(self.where, message, entry)

    def guid(self, value: str | None, entry: str, what: str) -> str:
        try:
            return str(uuid.UUID((value or "").strip().strip("{}")))
        except ValueError:
            raise self.fail(entry, f"{what}: {value!r} is not a Guid") from None

    def number(self, parent: Element | None, name: str, entry: str) -> float:
        text = _text(parent, name)
        try:
            value = float(text) if text is not None else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.fail(entry, f"{name}: expected a finite number, got {text!r}")
        return value

    def vec(self, parent: Element | None, name: str, entry: str) -> Vec3:
        element = _child(parent, name)
        if element is None:
            raise self.fail(entry, f"{name} is missing")
        x, y, z = (self.number(element, axis, f"{entry}: {name}") for axis in "XYZ")
        return (x, y, z)

    def file_in(self, folder: str, reference: str | None) -> tuple[str, bytes] | None:
        """The entry a topic-relative reference names, if present in the archive."""
        if not reference:
            return None
        name = posixpath.normpath(posixpath.join(folder, reference))
        check_entry_name(name, self.where)
        return (name, self.entries[name]) if name in self.entries else None

    # -- archive level -------------------------------------------------------------------

    def archive(self) -> BcfArchive:
        out = BcfArchive(version=self.version())
        if "project.bcfp" in self.entries:
            project = _child(self.xml("project.bcfp"), "Project")
            if project is not None:
                out.project_id = _attr(project, "ProjectId")
                out.project_name = _text(project, "Name")
        if "extensions.xml" in self.entries:
            out.extensions = self.extensions(self.xml("extensions.xml"))
        if "documents.xml" in self.entries:
            self.read_documents(self.xml("documents.xml"))
        folders = sorted(n[: -len("/markup.bcf")] for n in self.entries
                         if n.endswith("/markup.bcf") and n.count("/") == 1)  # fmt: skip
        if not folders:
            raise BcfError(self.where, "no topic (no FOLDER/markup.bcf entry)")
        out.topics = [self.topic(folder) for folder in folders]
        out.documents = list(self.documents.values())
        return out

    def version(self) -> str:
        if "bcf.version" not in self.entries:
            return "2.1"
        version = _attr(self.xml("bcf.version"), "VersionId") or ""
        if not version.startswith(("2.", "3.")):
            raise self.fail("bcf.version", f"unsupported BCF version {version!r} (2.x, 3.x)")
        return version

    def extensions(self, root: Element) -> Extensions:
        def values(group: str, item: str) -> list[str]:
            return [c.text.strip() for c in _children(_child(root, group), item)
                    if c.text and c.text.strip()]  # fmt: skip

        return Extensions(
            topic_types=values("TopicTypes", "TopicType"),
            topic_statuses=values("TopicStatuses", "TopicStatus"),
            priorities=values("Priorities", "Priority"),
            topic_labels=values("TopicLabels", "TopicLabel"),
            users=values("Users", "User"),
            snippet_types=values("SnippetTypes", "SnippetType"),
            stages=values("Stages", "Stage"),
        )

    def read_documents(self, root: Element) -> None:
        for element in _children(_child(root, "Documents"), "Document"):
            guid = self.guid(_attr(element, "Guid"), "documents.xml", "Document/@Guid")
            data = self.entries.get(f"documents/{guid}", b"")
            self.documents[guid] = Document(guid, _text(element, "Filename") or guid,
                                            _text(element, "Description"), data)  # fmt: skip

    # -- markup ---------------------------------------------------------------------------

    def topic(self, folder: str) -> Topic:
        entry = f"{folder}/markup.bcf"
        markup = self.xml(entry)
        element = _child(markup, "Topic")
        if element is None:
            raise self.fail(entry, "Markup has no Topic")
        topic = Topic(
            guid=self.guid(_attr(element, "Guid"), entry, "Topic/@Guid"),
            title=_text(element, "Title") or "(untitled)",
            topic_type=_attr(element, "TopicType") or None,
            topic_status=_attr(element, "TopicStatus") or None,
            creation_date=_text(element, "CreationDate"),
            creation_author=_text(element, "CreationAuthor"),
            server_assigned_id=_attr(element, "ServerAssignedId"),
            reference_links=self.listed(element, "ReferenceLinks", "ReferenceLink"),
            priority=_text(element, "Priority"),
            index=self.index(element, entry),
            labels=self.listed(element, "Labels", "Label"),
            modified_date=_text(element, "ModifiedDate"),
            modified_author=_text(element, "ModifiedAuthor"),
            due_date=_text(element, "DueDate"),
            assigned_to=_text(element, "AssignedTo"),
            stage=_text(element, "Stage"),
            description=_text(element, "Description"),
        )
        topic.bim_snippet = self.snippet(_child(element, "BimSnippet"), folder)
        topic.document_references = self.document_refs(element, folder, entry)
        related = _children(_child(element, "RelatedTopics"), "RelatedTopic")
        related += _children(element, "RelatedTopic")
        topic.related_topics = [self.guid(_attr(r, "Guid"), entry, "RelatedTopic/@Guid")
                                for r in related]  # fmt: skip
        comments = _children(_child(element, "Comments"), "Comment")
        comments += _children(markup, "Comment")
        topic.comments = [self.comment(c, entry) for c in comments]
        views = _children(_child(element, "Viewpoints"), "ViewPoint")
        views += _children(markup, "Viewpoints")
        topic.viewpoints = [self.viewpoint(v, folder) for v in views]
        header = _child(markup, "Header")
        files = _children(_child(header, "Files"), "File") + _children(header, "File")
        topic.header_files = [self.header_file(f) for f in files]
        return topic

    def listed(self, element: Element, wrapper: str, item: str) -> list[str]:
        """Values of the 3.0 ``Wrapper/Item`` form or the 2.1 repeated-element form."""
        out: list[str] = []
        for group in _children(element, wrapper):
            items = _children(group, item)
            texts = [i.text for i in items] if items else [group.text]
            out += [t.strip() for t in texts if t and t.strip()]
        out += [i.text.strip() for i in _children(element, item) if i.text and i.text.strip()]
        return out

    def index(self, element: Element, entry: str) -> int | None:
        text = _text(element, "Index")
        try:
            return None if text is None else int(text)
        except ValueError:
            raise self.fail(entry, f"Index: expected an integer, got {text!r}") from None

    def snippet(self, element: Element | None, folder: str) -> BimSnippet | None:
        if element is None:
            return None
        external = bool(_bool(_attr(element, "IsExternal"), False))
        reference = _text(element, "Reference") or ""
        found = None if external else self.file_in(folder, reference)
        return BimSnippet(
            snippet_type=_attr(element, "SnippetType") or "unknown", reference=reference,
            reference_schema=_text(element, "ReferenceSchema") or "", is_external=external,
            data=found[1] if found else None,
        )  # fmt: skip

    def document_refs(self, element: Element, folder: str, entry: str) -> list[DocumentReference]:
        refs = _children(_child(element, "DocumentReferences"), "DocumentReference")
        refs += _children(element, "DocumentReference")
        out = []
        for ref in refs:
            raw_guid = _attr(ref, "Guid")
            guid = self.guid(raw_guid, entry, "DocumentReference/@Guid") if raw_guid else str(
                uuid.uuid5(DOCUMENT_NAMESPACE, f"{folder}/{len(out)}"))  # fmt: skip
            item = DocumentReference(guid, description=_text(ref, "Description"))
            document_guid = _text(ref, "DocumentGuid")
            legacy = _text(ref, "ReferencedDocument")  # BCF 2.1
            if document_guid:
                item.document_guid = self.guid(document_guid, entry, "DocumentGuid")
            elif legacy and not _bool(_attr(ref, "isExternal"), False):
                item.document_guid, item.url = self.legacy_document(folder, legacy)
            else:
                item.url = _text(ref, "Url") or legacy
            out.append(item)
        return out

    def legacy_document(self, folder: str, reference: str) -> tuple[str | None, str | None]:
        """A 2.1 internal document (a path in the archive) becomes a 3.0 document."""
        found = self.file_in(folder, reference)
        if found is None:
            return None, reference
        name, data = found
        guid = str(uuid.uuid5(DOCUMENT_NAMESPACE, name))
        self.documents.setdefault(guid, Document(guid, posixpath.basename(name), None, data))
        return guid, None

    def comment(self, element: Element, entry: str) -> Comment:
        view = _child(element, "Viewpoint")
        return Comment(
            guid=self.guid(_attr(element, "Guid"), entry, "Comment/@Guid"),
            date=_text(element, "Date"), author=_text(element, "Author"),
            text=_text(element, "Comment"),
            viewpoint_guid=self.guid(_attr(view, "Guid"), entry, "Comment/Viewpoint/@Guid")
            if view is not None else None,
            modified_date=_text(element, "ModifiedDate"),
            modified_author=_text(element, "ModifiedAuthor"),
        )  # fmt: skip

    def header_file(self, element: Element) -> HeaderFile:
        return HeaderFile(
            filename=_text(element, "Filename"), date=_text(element, "Date"),
            reference=_text(element, "Reference"), ifc_project=_attr(element, "IfcProject"),
            ifc_spatial_structure_element=_attr(element, "IfcSpatialStructureElement"),
            is_external=bool(_bool(_attr(element, "IsExternal"), True)),
        )  # fmt: skip

    # -- viewpoints -----------------------------------------------------------------------

    def viewpoint(self, element: Element, folder: str) -> Viewpoint:
        markup = f"{folder}/markup.bcf"
        view = Viewpoint(guid=self.guid(_attr(element, "Guid"), markup, "ViewPoint/@Guid"),
                         index=self.index(element, markup))  # fmt: skip
        snapshot = self.file_in(folder, _text(element, "Snapshot"))
        if snapshot is not None:
            view.snapshot_name, view.snapshot = posixpath.basename(snapshot[0]), snapshot[1]
        found = self.file_in(folder, _text(element, "Viewpoint"))
        if found is not None:
            self.visualization(view, parse_xml(found[1], self.where, found[0]), found[0],
                               folder)  # fmt: skip
        return view

    def visualization(self, view: Viewpoint, root: Element, entry: str, folder: str) -> None:
        components = _child(root, "Components")
        visibility = _child(components, "Visibility")
        view.selection = self.components(_child(components, "Selection"), entry)
        view.default_visibility = bool(
            _bool(_attr(visibility, "DefaultVisibility") if visibility is not None else None, False)
        )
        view.exceptions = self.components(_child(visibility, "Exceptions"), entry)
        hints = _child(visibility, "ViewSetupHints")
        if hints is None:  # BCF 2.1 puts the hints under Components
            hints = _child(components, "ViewSetupHints")
        if hints is not None:
            view.spaces_visible = _bool(_attr(hints, "SpacesVisible"), None)
            view.space_boundaries_visible = _bool(_attr(hints, "SpaceBoundariesVisible"), None)
            view.openings_visible = _bool(_attr(hints, "OpeningsVisible"), None)
        for color in _children(_child(components, "Coloring"), "Color"):
            inner = _child(color, "Components")
            members = self.components(inner if inner is not None else color, entry)
            view.coloring.append(Coloring(_attr(color, "Color") or "", members))
        view.camera = self.camera(root, entry)
        for line in _children(_child(root, "Lines"), "Line"):
            view.lines.append(Line(self.vec(line, "StartPoint", entry),
                                   self.vec(line, "EndPoint", entry)))  # fmt: skip
        for plane in _children(_child(root, "ClippingPlanes"), "ClippingPlane"):
            view.clipping_planes.append(
                ClippingPlane(
                    self.vec(plane, "Location", entry), self.vec(plane, "Direction", entry)
                )
            )
        bitmaps = _children(_child(root, "Bitmaps"), "Bitmap") + [
            b for b in _children(root, "Bitmap") if _child(b, "Reference") is not None
        ]
        view.bitmaps = [self.bitmap(b, entry, folder) for b in bitmaps]

    def components(self, parent: Element | None, entry: str) -> list[Component]:
        return [
            Component(_attr(c, "IfcGuid"), _text(c, "OriginatingSystem"),
                      _text(c, "AuthoringToolId"))
            for c in _children(parent, "Component")
        ]  # fmt: skip

    def camera(self, root: Element, entry: str) -> Camera | None:
        kinds = (("perspective", "PerspectiveCamera"), ("orthogonal", "OrthogonalCamera"))
        for kind, name in kinds:
            element = _child(root, name)
            if element is None:
                continue
            camera = Camera(kind, self.vec(element, "CameraViewPoint", entry),  # type: ignore[arg-type]
                            self.vec(element, "CameraDirection", entry),
                            self.vec(element, "CameraUpVector", entry))  # fmt: skip
            if kind == "perspective":
                camera.field_of_view_deg = self.number(element, "FieldOfView", entry)
            else:
                camera.view_to_world_scale = self.number(element, "ViewToWorldScale", entry)
            if _child(element, "AspectRatio") is not None:
                camera.aspect_ratio = self.number(element, "AspectRatio", entry)
            return camera
        return None

    def bitmap(self, element: Element, entry: str, folder: str) -> Bitmap:
        fmt = _text(element, "Format") or _text(element, "Bitmap") or "png"
        reference = _text(element, "Reference") or ""
        found = self.file_in(folder, reference)
        return Bitmap(
            format=fmt.lower(), reference=reference,
            location=self.vec(element, "Location", entry),
            normal=self.vec(element, "Normal", entry), up=self.vec(element, "Up", entry),
            height=self.number(element, "Height", entry), data=found[1] if found else None,
        )  # fmt: skip


def read_bcf(
    source: bytes | str | Path, *, name: str | None = None, limits: ArchiveLimits | None = None
) -> BcfArchive:
    """Read a BCF 2.1 or 3.0 archive.

    Args:
        source: The archive's bytes, or its path.
        name: The archive's name in error messages (default: the path, or ``<bytes>``).
        limits: Bounds for unpacking; default `ArchiveLimits()`.

    Returns:
        The archive's topics with comments, viewpoints (cameras in the model frame,
        metres), snapshots and documents.

    Raises:
        BcfError: unsafe or malformed archive; the message names the entry and element.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        where = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BcfError(where, f"cannot read ({exc.strerror or exc})") from exc
    else:
        data, where = source, name or "<bytes>"
    return _Reader(unpack(data, where, limits), where).archive()
