"""BCF reading (3.0 official test cases, a hand-built 2.1 archive) and BCF 3.0 writing."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pytest
import xmlschema
from bcf_helpers import BCF_DATA, CASES, XSD_V3, assert_valid_v3, case

from arinspect.exchange.bcf import BcfArchive, BcfError, Topic, read_bcf, write_bcf
from arinspect.exchange.bcf.camera import camera_from_pinhole, pinhole_from_camera


def _summary(archive):
    return sorted(
        (
            t.guid,
            t.title,
            t.topic_type,
            t.topic_status,
            tuple(t.labels),
            t.assigned_to,
            t.due_date,
            t.stage,
            tuple(t.related_topics),
            tuple((c.guid, c.author, c.text, c.viewpoint_guid) for c in t.comments),
            tuple(
                (
                    v.guid,
                    tuple(c.ifc_guid for c in v.selection),
                    tuple(c.ifc_guid for c in v.exceptions),
                    v.default_visibility,
                    v.camera,
                    v.snapshot,
                )
                for v in t.viewpoints
            ),
        )
        for t in archive.topics
    )


def test_all_19_official_cases_are_present():
    assert len(CASES) == 19


@pytest.mark.parametrize("path", CASES, ids=[p.parent.name for p in CASES])
def test_official_case_reads_and_rewrites_as_valid_bcf3(path):
    original = read_bcf(path)
    assert original.topics and all(t.title and t.creation_author for t in original.topics)
    data = write_bcf(original)
    assert_valid_v3(data)
    assert _summary(read_bcf(data)) == _summary(original)


@pytest.mark.parametrize("name", ["Markup__Due_Date", "Markup__Labels", "Markup__Milestone"])
def test_extensions_out_of_xsd_order_are_read_and_never_written(name):
    path = case(name)
    with zipfile.ZipFile(path) as archive:
        schema = xmlschema.XMLSchema10(str(XSD_V3 / "extensions.xsd"))
        assert not schema.is_valid(io.BytesIO(archive.read("extensions.xml")))
    original = read_bcf(path)
    assert original.extensions.users == [
        "Architect@example.com",
        "Engineer@example.com",
        "MEPDesigner@example.com",
    ]
    data = write_bcf(original)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert schema.is_valid(io.BytesIO(archive.read("extensions.xml")))


def test_markup_values_of_official_cases():
    labels = read_bcf(case("Markup__Labels")).topics[0]
    assert labels.labels == ["Architects"]
    due = read_bcf(case("Markup__Due_Date")).topics[0]
    assert due.due_date == "2021-03-15T11:00:00.000Z"
    milestone = read_bcf(case("Markup__Milestone")).topics[0]
    assert (milestone.stage, milestone.topic_status, milestone.topic_type) == (
        "February",
        "Open",
        "Error",
    )
    assigned = read_bcf(case("Markup__User_assignment")).topics[0]
    assert assigned.assigned_to == "Architect@example.com"
    internal = read_bcf(case("Markup__Document_reference_internal"))
    assert internal.documents[0].filename == "ThisIsADocument.txt"
    assert internal.topics[0].document_references[0].document_guid == internal.documents[0].guid
    related = read_bcf(case("Markup__Related_topics_with_both_topics_in_the_same_file"))
    by_guid = {t.guid: t for t in related.topics}
    assert any(set(t.related_topics) & set(by_guid) for t in related.topics)


def test_viewpoint_values_of_official_cases():
    selection = read_bcf(case("Visualization__Component_selection")).topics[0].viewpoints[0]
    assert [c.ifc_guid for c in selection.selection] == [
        "0KkZ20so9BsO1d1hFcfLOl",
        "1XbKhGD91DvhOpYZbhzGTI",
        "3D9pjHJ0HCnggyepvsht8s",
    ]
    assert selection.default_visibility is True and selection.spaces_visible is True
    assert selection.snapshot.startswith(b"\x89PNG")
    ortho = read_bcf(case("Visualization__Orthogonal_camera")).topics[0].viewpoints[0].camera
    assert ortho.kind == "orthogonal"
    assert ortho.view_to_world_scale == pytest.approx(12.079612252278443)
    assert ortho.up_vector == (-1.0, 0.0, 0.0)
    rewritten = read_bcf(write_bcf(read_bcf(case("Visualization__Orthogonal_camera"))))
    assert rewritten.topics[0].viewpoints[0].camera == ortho
    perspective = read_bcf(case("Visualization__Perspective_camera")).topics[0].viewpoints[0]
    assert perspective.camera.kind == "perspective"
    assert 0 < perspective.camera.field_of_view_deg < 180


def test_writer_refuses_a_topic_without_required_values():
    topic = Topic(
        guid="5f0e6a52-4c51-4bd3-9c1c-0b0f4d1f1e01",
        title="t",
        topic_type="Issue",
        creation_date="2026-01-01T00:00:00Z",
        creation_author="x",
    )
    with pytest.raises(BcfError, match="topic_status"):
        write_bcf(BcfArchive(topics=[topic]))


def test_writer_refuses_what_the_xsd_refuses():
    archive = _minimal()
    archive.topics[0].comments[0].viewpoint_guid = "NOT-A-GUID"
    with pytest.raises(BcfError, match="not valid BCF 3.0"):
        write_bcf(archive)


def _minimal():
    return read_bcf(case("Markup__User_assignment"))


def test_camera_round_trip_from_pinhole():
    T_section_cam = np.array([[1, 0, 0, 2.0], [0, -1, 0, 0.5], [0, 0, -1, 1.5], [0, 0, 0, 1]])
    K = np.array([[600, 0, 319.5], [0, 600, 239.5], [0, 0, 1]])
    camera = camera_from_pinhole(T_section_cam, K, (640, 480))
    assert camera.view_point == (2.0, 0.5, 1.5)
    assert camera.direction == (0.0, 0.0, -1.0)
    assert camera.up_vector == (0.0, 1.0, 0.0)
    assert camera.field_of_view_deg == pytest.approx(math.degrees(2 * math.atan(240 / 600)))
    assert camera.aspect_ratio == pytest.approx(640 / 480)
    T_back, K_back = pinhole_from_camera(camera, (640, 480))
    np.testing.assert_allclose(T_back, T_section_cam, atol=1e-12)
    np.testing.assert_allclose(K_back, K, atol=1e-9)


V21_MARKUP = b"""<?xml version="1.0" encoding="UTF-8"?>
<Markup>
  <Header><File IfcProject="2SugUv4EX5LAhcVpDp2dUH" isExternal="true">
    <Filename>deck.ifc</Filename><Date>2014-10-16T13:10:56+00:00</Date></File></Header>
  <Topic Guid="A245F4F2-2C01-B43B-B612-5E8AF0D7EA1B" TopicType="Clash" TopicStatus="Active">
    <ReferenceLink>https://yard.example/issues/17</ReferenceLink>
    <Title>Bracket clashes with pipe</Title>
    <Priority>Major</Priority>
    <Labels>Piping</Labels>
    <Labels>Hull</Labels>
    <CreationDate>2014-10-16T13:10:56+00:00</CreationDate>
    <CreationAuthor>anna@yard.example</CreationAuthor>
    <AssignedTo>wim@yard.example</AssignedTo>
    <Description>Move the bracket 50 mm aft</Description>
    <RelatedTopic Guid="b245f4f2-2c01-b43b-b612-5e8af0d7ea1b"/>
  </Topic>
  <Comment Guid="c245f4f2-2c01-b43b-b612-5e8af0d7ea1b">
    <Date>2014-10-16T14:35:29+00:00</Date>
    <Author>bob@yard.example</Author>
    <Comment>Confirmed on site</Comment>
    <Viewpoint Guid="d245f4f2-2c01-b43b-b612-5e8af0d7ea1b"/>
  </Comment>
  <Viewpoints Guid="d245f4f2-2c01-b43b-b612-5e8af0d7ea1b">
    <Viewpoint>viewpoint.bcfv</Viewpoint>
    <Snapshot>snapshot.png</Snapshot>
  </Viewpoints>
</Markup>
"""
V21_VIEWPOINT = b"""<?xml version="1.0" encoding="UTF-8"?>
<VisualizationInfo Guid="d245f4f2-2c01-b43b-b612-5e8af0d7ea1b">
  <Components>
    <ViewSetupHints SpacesVisible="false" SpaceBoundariesVisible="false" OpeningsVisible="true"/>
    <Selection><Component IfcGuid="1bbI761TbBCOoIa5Kt6PXt">
      <OriginatingSystem>Tekla</OriginatingSystem><AuthoringToolId>BR-12</AuthoringToolId>
    </Component></Selection>
    <Visibility DefaultVisibility="true"/>
  </Components>
  <PerspectiveCamera>
    <CameraViewPoint><X>1.5</X><Y>-2.0</Y><Z>3.25</Z></CameraViewPoint>
    <CameraDirection><X>0</X><Y>1</Y><Z>0</Z></CameraDirection>
    <CameraUpVector><X>0</X><Y>0</Y><Z>1</Z></CameraUpVector>
    <FieldOfView>55.0</FieldOfView>
  </PerspectiveCamera>
  <Lines><Line><StartPoint><X>0</X><Y>0</Y><Z>0</Z></StartPoint>
    <EndPoint><X>1</X><Y>0</Y><Z>0</Z></EndPoint></Line></Lines>
</VisualizationInfo>
"""
V21_VERSION = b"""<?xml version="1.0" encoding="UTF-8"?>
<Version VersionId="2.1"><DetailedVersion>2.1</DetailedVersion></Version>
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0" + b"\x00" * 32


def make_v21_archive() -> bytes:
    """A BCF 2.1 archive, each XML file validated against the official 2.1 XSDs."""
    folder = "a245f4f2-2c01-b43b-b612-5e8af0d7ea1b"
    files = {
        "bcf.version": (V21_VERSION, "version.xsd"),
        f"{folder}/markup.bcf": (V21_MARKUP, "markup.xsd"),
        f"{folder}/viewpoint.bcfv": (V21_VIEWPOINT, "visinfo.xsd"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, xsd) in files.items():
            xmlschema.XMLSchema10(str(BCF_DATA / "schemas_v2.1" / xsd)).validate(io.BytesIO(data))
            archive.writestr(name, data)
        archive.writestr(f"{folder}/snapshot.png", PNG)
    return buffer.getvalue()


def test_v21_archive_reads_with_its_layout():
    archive = read_bcf(make_v21_archive())
    assert archive.version == "2.1"
    topic = archive.topics[0]
    assert topic.guid == "a245f4f2-2c01-b43b-b612-5e8af0d7ea1b"  # normalised to lower case
    assert (topic.title, topic.topic_type, topic.topic_status, topic.priority) == (
        "Bracket clashes with pipe",
        "Clash",
        "Active",
        "Major",
    )
    assert topic.labels == ["Piping", "Hull"]
    assert topic.reference_links == ["https://yard.example/issues/17"]
    assert topic.related_topics == ["b245f4f2-2c01-b43b-b612-5e8af0d7ea1b"]
    assert topic.header_files[0].filename == "deck.ifc"
    assert [(c.author, c.text) for c in topic.comments] == [
        ("bob@yard.example", "Confirmed on site")
    ]
    view = topic.viewpoints[0]
    assert view.selection[0].ifc_guid == "1bbI761TbBCOoIa5Kt6PXt"
    assert view.selection[0].authoring_tool_id == "BR-12"
    assert view.openings_visible is True and view.default_visibility is True
    assert view.camera.view_point == (1.5, -2.0, 3.25)
    assert view.camera.field_of_view_deg == 55.0 and view.camera.aspect_ratio is None
    assert view.lines[0].end == (1.0, 0.0, 0.0)
    assert view.snapshot == PNG
    assert_valid_v3(write_bcf(archive))
