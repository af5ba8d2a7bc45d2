"""Writer of BCF 3.0 archives from `BcfArchive`, every XML file checked against the XSDs.

Elements are written in the order the XSDs require; empty optional groups are left
out. ``extensions.xml`` declares every type, status, priority, label, user, stage and
snippet type the topics use, besides those the archive's `Extensions` lists. A viewpoint
without a camera (BCF 2.1 allows it; 3.0 does not) is written as a snapshot-only
``ViewPoint``; a camera without ``AspectRatio`` (2.1) gets 1.0. Entries carry a fixed
timestamp, so equal content gives equal bytes.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from xml.etree import ElementTree as ET

from arinspect.exchange.bcf.errors import BcfError
from arinspect.exchange.bcf.model import (
    BcfArchive,
    Camera,
    Comment,
    Component,
    Extensions,
    Topic,
    Vec3,
    Viewpoint,
)
from arinspect.exchange.bcf.safety import check_entry_name
from arinspect.exchange.bcf.schemas import validate

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, name, attrs)
    if text is not None:
        element.text = text
    return element


def _opt(parent: ET.Element, name: str, value: str | int | None) -> None:
    if value is not None and str(value).strip():
        _sub(parent, name, str(value))


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _vec(parent: ET.Element, name: str, value: Vec3) -> None:
    element = _sub(parent, name)
    for axis, number in zip("XYZ", value, strict=True):
        _sub(element, axis, repr(float(number)))


def _serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _merge(*groups: list[str | None]) -> list[str]:
    out: list[str] = []
    for group in groups:
        out += [v for v in group if v and v.strip() and v not in out]
    return out


class _Writer:
    """Collects the entries of one archive, validating each XML file as it is added."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.entries: dict[str, bytes] = {}

    def add(self, name: str, data: bytes) -> None:
        check_entry_name(name, self.where)
        if name in self.entries:
            raise BcfError(self.where, "two files would share this name", name)
        self.entries[name] = data

    def add_xml(self, name: str, root: ET.Element) -> None:
        data = _serialize(root)
        validate(data, root.tag, self.where, name)
        self.add(name, data)

    def zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.entries.items():
                info = zipfile.ZipInfo(name, _ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return buffer.getvalue()


def write_bcf(archive: BcfArchive, *, name: str = "<export>") -> bytes:
    """Write ``archive`` as a BCF 3.0 zip (whatever version it was read from).

    Args:
        archive: Topics with comments, viewpoints (model frame, metres) and payloads.
        name: The archive's name in error messages.

    Returns:
        The archive bytes; every XML file in it validates against the BCF 3.0 XSDs.

    Raises:
        BcfError: a topic lacks a value BCF 3.0 requires, or a file would not validate.
    """
    out = _Writer(name)
    version = ET.Element("Version", {"VersionId": "3.0"})
    out.add_xml("bcf.version", version)
    if archive.project_id:
        info = ET.Element("ProjectInfo")
        project = _sub(info, "Project", ProjectId=archive.project_id)
        _opt(project, "Name", archive.project_name)
        out.add_xml("project.bcfp", info)
    out.add_xml("extensions.xml", _extensions(archive))
    if archive.documents:
        info = ET.Element("DocumentInfo")
        documents = _sub(info, "Documents")
        for document in archive.documents:
            element = _sub(documents, "Document", Guid=document.guid)
            _sub(element, "Filename", document.filename)
            _opt(element, "Description", document.description)
            out.add(f"documents/{document.guid}", document.data)
        out.add_xml("documents.xml", info)
    for topic in archive.topics:
        _topic(out, topic)
    return out.zip()


def _extensions(archive: BcfArchive) -> ET.Element:
    ext, topics = archive.extensions, archive.topics
    declared = Extensions(
        topic_types=_merge(ext.topic_types, [t.topic_type for t in topics]),
        topic_statuses=_merge(ext.topic_statuses, [t.topic_status for t in topics]),
        priorities=_merge(ext.priorities, [t.priority for t in topics]),
        topic_labels=_merge(ext.topic_labels, *[list(t.labels) for t in topics]),
        users=_merge(ext.users, [t.assigned_to for t in topics]),
        snippet_types=_merge(ext.snippet_types,
                             [t.bim_snippet.snippet_type for t in topics if t.bim_snippet]),
        stages=_merge(ext.stages, [t.stage for t in topics]),
    )  # fmt: skip
    root = ET.Element("Extensions")
    for group, item, values in (
        ("TopicTypes", "TopicType", declared.topic_types),
        ("TopicStatuses", "TopicStatus", declared.topic_statuses),
        ("Priorities", "Priority", declared.priorities),
        ("TopicLabels", "TopicLabel", declared.topic_labels),
        ("Users", "User", declared.users),
        ("SnippetTypes", "SnippetType", declared.snippet_types),
        ("Stages", "Stage", declared.stages),
    ):
        if values:
            parent = _sub(root, group)
            for value in values:
                _sub(parent, item, value)
    return root


def _required(topic: Topic, where: str) -> None:
    for field in ("topic_type", "topic_status", "creation_date", "creation_author"):
        if not getattr(topic, field):
            raise BcfError(where, f"topic {topic.guid} has no {field} (BCF 3.0 requires it)")


def _topic(out: _Writer, topic: Topic) -> None:
    _required(topic, out.where)
    folder = topic.guid
    markup = ET.Element("Markup")
    if topic.header_files:
        files = _sub(_sub(markup, "Header"), "Files")
        for item in topic.header_files:
            attrs = {"IsExternal": _bool(item.is_external)}
            if item.ifc_project:
                attrs["IfcProject"] = item.ifc_project
            if item.ifc_spatial_structure_element:
                attrs["IfcSpatialStructureElement"] = item.ifc_spatial_structure_element
            element = _sub(files, "File", **attrs)
            _opt(element, "Filename", item.filename)
            _opt(element, "Date", item.date)
            _opt(element, "Reference", item.reference)
    attrs = {"Guid": topic.guid, "TopicType": str(topic.topic_type),
             "TopicStatus": str(topic.topic_status)}  # fmt: skip
    if topic.server_assigned_id:
        attrs["ServerAssignedId"] = topic.server_assigned_id
    element = _sub(markup, "Topic", **attrs)
    if topic.reference_links:
        links = _sub(element, "ReferenceLinks")
        for link in topic.reference_links:
            _sub(links, "ReferenceLink", link)
    _sub(element, "Title", topic.title)
    _opt(element, "Priority", topic.priority)
    _opt(element, "Index", topic.index)
    if topic.labels:
        labels = _sub(element, "Labels")
        for label in topic.labels:
            _sub(labels, "Label", label)
    _sub(element, "CreationDate", topic.creation_date)
    _sub(element, "CreationAuthor", topic.creation_author)
    for name, value in (("ModifiedDate", topic.modified_date),
                        ("ModifiedAuthor", topic.modified_author), ("DueDate", topic.due_date),
                        ("AssignedTo", topic.assigned_to), ("Stage", topic.stage),
                        ("Description", topic.description)):  # fmt: skip
        _opt(element, name, value)
    if topic.bim_snippet is not None:
        snippet = topic.bim_snippet
        reference = snippet.reference
        if not snippet.is_external and snippet.data is not None:
            reference = posixpath.basename(reference) or "snippet"
            out.add(f"{folder}/{reference}", snippet.data)
        node = _sub(element, "BimSnippet", SnippetType=snippet.snippet_type,
                    IsExternal=_bool(snippet.is_external))  # fmt: skip
        _sub(node, "Reference", reference)
        _sub(node, "ReferenceSchema", snippet.reference_schema)
    if topic.document_references:
        refs = _sub(element, "DocumentReferences")
        for ref in topic.document_references:
            node = _sub(refs, "DocumentReference", Guid=ref.guid)
            if ref.document_guid:
                _sub(node, "DocumentGuid", ref.document_guid)
            else:
                _opt(node, "Url", ref.url)
            _opt(node, "Description", ref.description)
    if topic.related_topics:
        related = _sub(element, "RelatedTopics")
        for guid in topic.related_topics:
            _sub(related, "RelatedTopic", Guid=guid)
    if topic.comments:
        comments = _sub(element, "Comments")
        for comment in topic.comments:
            _comment(comments, comment, topic.guid, out.where)
    if topic.viewpoints:
        views = _sub(element, "Viewpoints")
        for view in topic.viewpoints:
            _viewpoint(out, views, view, folder)
    out.add_xml(f"{folder}/markup.bcf", markup)


def _comment(parent: ET.Element, comment: Comment, topic_guid: str, where: str) -> None:
    if not comment.date or not comment.author:
        raise BcfError(where, f"comment {comment.guid} of topic {topic_guid} needs a date "
                       "and an author (BCF 3.0 requires them)")  # fmt: skip
    element = _sub(parent, "Comment", Guid=comment.guid)
    _sub(element, "Date", comment.date)
    _sub(element, "Author", comment.author)
    _opt(element, "Comment", comment.text)
    if comment.viewpoint_guid:
        _sub(element, "Viewpoint", Guid=comment.viewpoint_guid)
    _opt(element, "ModifiedDate", comment.modified_date)
    _opt(element, "ModifiedAuthor", comment.modified_author)


def _viewpoint(out: _Writer, parent: ET.Element, view: Viewpoint, folder: str) -> None:
    element = _sub(parent, "ViewPoint", Guid=view.guid)
    if view.camera is not None:
        name = f"Viewpoint_{view.guid}.bcfv"
        _sub(element, "Viewpoint", name)
        out.add_xml(f"{folder}/{name}", _visualization(out, view, view.camera, folder))
    if view.snapshot:
        extension = "png" if view.snapshot.startswith(b"\x89PNG") else "jpg"
        name = f"Snapshot_{view.guid}.{extension}"
        _sub(element, "Snapshot", name)
        out.add(f"{folder}/{name}", view.snapshot)
    _opt(element, "Index", view.index)


def _components(parent: ET.Element, name: str, components: list[Component]) -> ET.Element:
    element = _sub(parent, name)
    for component in components:
        attrs = {"IfcGuid": component.ifc_guid} if component.ifc_guid else {}
        node = _sub(element, "Component", **attrs)
        _opt(node, "OriginatingSystem", component.originating_system)
        _opt(node, "AuthoringToolId", component.authoring_tool_id)
    return element


def _visualization(out: _Writer, view: Viewpoint, camera: Camera, folder: str) -> ET.Element:
    root = ET.Element("VisualizationInfo", {"Guid": view.guid})
    components = _sub(root, "Components")
    if view.selection:
        _components(components, "Selection", view.selection)
    visibility = _sub(components, "Visibility", DefaultVisibility=_bool(view.default_visibility))
    hints = {"SpacesVisible": view.spaces_visible,
             "SpaceBoundariesVisible": view.space_boundaries_visible,
             "OpeningsVisible": view.openings_visible}  # fmt: skip
    if any(v is not None for v in hints.values()):
        _sub(visibility, "ViewSetupHints",
             **{k: _bool(v) for k, v in hints.items() if v is not None})  # fmt: skip
    if view.exceptions:
        _components(visibility, "Exceptions", view.exceptions)
    if view.coloring:
        coloring = _sub(components, "Coloring")
        for color in view.coloring:
            _components(_sub(coloring, "Color", Color=color.color), "Components",
                        color.components)  # fmt: skip
    _camera(root, camera)
    if view.lines:
        lines = _sub(root, "Lines")
        for line in view.lines:
            node = _sub(lines, "Line")
            _vec(node, "StartPoint", line.start)
            _vec(node, "EndPoint", line.end)
    if view.clipping_planes:
        planes = _sub(root, "ClippingPlanes")
        for plane in view.clipping_planes:
            node = _sub(planes, "ClippingPlane")
            _vec(node, "Location", plane.location)
            _vec(node, "Direction", plane.direction)
    if view.bitmaps:
        bitmaps = _sub(root, "Bitmaps")
        for bitmap in view.bitmaps:
            reference = bitmap.reference
            if bitmap.data is not None:
                reference = posixpath.basename(reference) or f"bitmap.{bitmap.format}"
                out.add(f"{folder}/{reference}", bitmap.data)
            node = _sub(bitmaps, "Bitmap")
            _sub(node, "Format", bitmap.format)
            _sub(node, "Reference", reference)
            _vec(node, "Location", bitmap.location)
            _vec(node, "Normal", bitmap.normal)
            _vec(node, "Up", bitmap.up)
            _sub(node, "Height", repr(float(bitmap.height)))
    return root


def _camera(root: ET.Element, camera: Camera) -> None:
    perspective = camera.kind == "perspective"
    node = _sub(root, "PerspectiveCamera" if perspective else "OrthogonalCamera")
    _vec(node, "CameraViewPoint", camera.view_point)
    _vec(node, "CameraDirection", camera.direction)
    _vec(node, "CameraUpVector", camera.up_vector)
    if perspective:
        _sub(node, "FieldOfView", repr(float(camera.field_of_view_deg or 60.0)))
    else:
        _sub(node, "ViewToWorldScale", repr(float(camera.view_to_world_scale or 1.0)))
    _sub(node, "AspectRatio", repr(float(camera.aspect_ratio or 1.0)))
