"""Hostile BCF archives are refused with a message that names what and where."""

from __future__ import annotations

import io
import zipfile

import pytest

from arinspect.exchange.bcf import ArchiveLimits, BcfError, read_bcf

TOPIC = "5f0e6a52-4c51-4bd3-9c1c-0b0f4d1f1e01"
MARKUP = (
    f'<Markup><Topic Guid="{TOPIC}" TopicType="Issue" TopicStatus="Open"><Title>t</Title>'
    "<CreationDate>2026-01-01T00:00:00Z</CreationDate><CreationAuthor>a</CreationAuthor>"
    "</Topic></Markup>"
).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_a_clean_archive_reads():
    assert read_bcf(_zip({f"{TOPIC}/markup.bcf": MARKUP})).topics[0].title == "t"


def test_not_a_zip():
    with pytest.raises(BcfError, match=r"upload.bcf: not a zip archive"):
        read_bcf(b"PK\x03\x04 this is not really a zip", name="upload.bcf")


@pytest.mark.parametrize(
    "name",
    [
        "../evil/markup.bcf",
        "/etc/markup.bcf",
        "a/../../x.png",
        "C:/x/markup.bcf",
        "a\\..\\markup.bcf",
    ],
)
def test_path_traversal_and_absolute_names(name):
    with pytest.raises(BcfError, match="unsafe entry name") as info:
        read_bcf(_zip({f"{TOPIC}/markup.bcf": MARKUP, name: b"x"}))
    assert repr(name) in str(info.value)


def test_zip_bomb_is_refused_by_ratio():
    data = _zip({f"{TOPIC}/markup.bcf": MARKUP, f"{TOPIC}/bomb.png": b"\x00" * (20 << 20)})
    assert len(data) < 100_000
    with pytest.raises(BcfError, match=r"bomb.png: compression ratio over 100:1"):
        read_bcf(data)


def test_oversized_entry_and_archive():
    data = _zip({f"{TOPIC}/markup.bcf": MARKUP, f"{TOPIC}/big.png": bytes(range(256)) * 64})
    with pytest.raises(BcfError, match=r"big.png: entry exceeds the limit of 4096 bytes"):
        read_bcf(data, limits=ArchiveLimits(max_entry_bytes=4096))
    with pytest.raises(BcfError, match="archive of .* bytes exceeds the limit of 100 bytes"):
        read_bcf(data, limits=ArchiveLimits(max_archive_bytes=100))


def test_too_many_entries():
    entries = {f"{TOPIC}/markup.bcf": MARKUP} | {f"{TOPIC}/f{i}.txt": b"" for i in range(20)}
    with pytest.raises(BcfError, match="21 entries exceed the limit of 10"):
        read_bcf(_zip(entries), limits=ArchiveLimits(max_entries=10))


def test_malformed_xml_names_the_entry():
    with pytest.raises(BcfError, match=rf"{TOPIC}/markup.bcf: malformed XML"):
        read_bcf(_zip({f"{TOPIC}/markup.bcf": b"<Markup><Topic>"}))


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<Markup>&b;</Markup>",
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Markup>&x;</Markup>",
    ],
)
def test_xml_entity_attacks(payload):
    with pytest.raises(BcfError, match=rf"{TOPIC}/markup.bcf: forbidden XML construct"):
        read_bcf(_zip({f"{TOPIC}/markup.bcf": payload}))


def test_bad_number_names_the_element():
    view = (
        b'<VisualizationInfo Guid="6f0e6a52-4c51-4bd3-9c1c-0b0f4d1f1e01"><PerspectiveCamera>'
        b"<CameraViewPoint><X>nan</X><Y>0</Y><Z>0</Z></CameraViewPoint>"
        b"</PerspectiveCamera></VisualizationInfo>"
    )
    markup = MARKUP.replace(
        b"</Topic>",
        b'<Viewpoints><ViewPoint Guid="6f0e6a52-4c51-4bd3-9c1c-'
        b'0b0f4d1f1e01"><Viewpoint>v.bcfv</Viewpoint></ViewPoint>'
        b"</Viewpoints></Topic>",
    )
    with pytest.raises(BcfError, match=r"v.bcfv: CameraViewPoint: X: expected a finite number"):
        read_bcf(_zip({f"{TOPIC}/markup.bcf": markup, f"{TOPIC}/v.bcfv": view}))


def test_missing_file_and_no_topic():
    with pytest.raises(BcfError, match="cannot read"):
        read_bcf("/nonexistent/file.bcf")
    with pytest.raises(BcfError, match="no topic"):
        read_bcf(_zip({"bcf.version": b'<Version VersionId="3.0"/>'}))
