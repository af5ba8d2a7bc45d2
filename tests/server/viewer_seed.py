"""Seed a sync server with what the QA viewer shows: a section, its GLB, a run, annotations.

Used by the viewer's end-to-end tests and by ``benchmarks/bench_viewer.py``.
"""

from __future__ import annotations

import io
import json
import uuid
import wave
from dataclasses import dataclass, field

import cv2
import httpx
import numpy as np

from arinspect.cad.section import Section, load_section
from arinspect.exchange.gltf import section_glb
from arinspect.geometry import transform_points
from arinspect.resources import SAMPLE_SECTION_DIR


@dataclass
class Seeded:
    """What was put on the server: section id, part classes, annotation ids by title."""

    section_id: str
    part_class: dict[str, str]
    annotations: dict[str, dict] = field(default_factory=dict)


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a grey gradient)."""
    image = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    assert ok
    return data.tobytes()


def wav_bytes(seconds: float = 0.3, rate: int = 16000) -> bytes:
    """A short real 16-bit mono WAV (a 440 Hz tone)."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def surface_anchor(section: Section, part_id: str, index: int = 0) -> dict:
    """A point on the part's mesh and its normal, section frame (metres)."""
    part = section.part(part_id)
    mesh = section.mesh(part)
    face = index % len(mesh.faces)
    point = mesh.triangles_center[face]
    normal = mesh.face_normals[face]
    T = np.asarray(part.T_section_part)
    return {
        "point_section": transform_points(T, point[None])[0].tolist(),
        "normal_section": (T[:3, :3] @ normal).tolist(),
        "T_section_part": T.tolist(),
    }


def seed_viewer(
    url: str, tokens: dict[str, str], n_annotations: int = 6, section: Section | None = None
) -> Seeded:
    """Create the section, upload its GLB and a run, and ``n_annotations`` annotations.

    Statuses cycle open, resolved, in_progress; the first annotation has a snapshot and a
    voice note. The run marks the first part ``missing`` and the second ``misplaced``.
    """
    section = section or load_section(SAMPLE_SECTION_DIR)
    section_id = section.name
    engineer = {"Authorization": f"Bearer {tokens['engineer']}"}
    worker = {"Authorization": f"Bearer {tokens['worker']}"}
    with httpx.Client(base_url=url, timeout=30.0) as http:
        answer = http.post("/api/sections", json={"id": section_id, "name": "Sample block"},
                           headers=engineer)  # fmt: skip
        assert answer.status_code in (200, 201), answer.text
        glb = section_glb(section)
        answer = http.post(f"/api/sections/{section_id}/model", headers=engineer,
                           data={"op_id": _op()},
                           files={"file": ("section.glb", glb, "model/gltf-binary")})  # fmt: skip
        assert answer.status_code == 201, answer.text
        parts = [p.id for p in section.parts]
        report = {"parts": [{"id": parts[0], "status": "missing"},
                            {"id": parts[1], "status": "misplaced", "offset_mm": 42.0}]
                  + [{"id": p, "status": "present"} for p in parts[2:]]}  # fmt: skip
        answer = http.post(f"/api/sections/{section_id}/runs", headers=worker,
                           data={"op_id": _op()},
                           files={"file": ("report.json", json.dumps(report),
                                           "application/json")})  # fmt: skip
        assert answer.status_code == 201, answer.text
        seeded = Seeded(section_id, {p.id: p.class_name for p in section.parts})
        for index in range(n_annotations):
            part_id = parts[index % len(parts)]
            body = {"op_id": _op(), "part_id": part_id, "kind": "defect" if index % 2 else "note",
                    "title": f"finding {index:03d} on {part_id}",
                    "assignee": ("wim", "wanda")[index % 2],
                    "anchor": surface_anchor(section, part_id, index)}  # fmt: skip
            answer = http.post(f"/api/sections/{section_id}/annotations", json=body,
                               headers=worker)  # fmt: skip
            assert answer.status_code == 201, answer.text
            annotation = answer.json()["data"]
            wanted = ("open", "resolved", "in_progress")[index % 3]
            if wanted != "open":
                answer = http.patch(
                    f"/api/sections/{section_id}/annotations/{annotation['id']}", headers=worker,
                    json={"op_id": _op(), "base_version": annotation["version"], "status": wanted},
                )  # fmt: skip
                assert answer.status_code == 200, answer.text
                annotation = answer.json()["data"]
            seeded.annotations[annotation["title"]] = annotation
        if not seeded.annotations:
            return seeded
        first = next(iter(seeded.annotations.values()))
        media = (("snapshot", "snap.png", png_bytes(), "image/png"),
                 ("voice", "note.wav", wav_bytes(), "audio/wav"))  # fmt: skip
        for kind, name, data, mime in media:
            answer = http.post(
                f"/api/sections/{section_id}/annotations/{first['id']}/attachments",
                headers=worker, data={"op_id": _op(), "kind": kind},
                files={"file": (name, data, mime)},
            )  # fmt: skip
            assert answer.status_code == 201, answer.text
    return seeded


def _op() -> str:
    return str(uuid.uuid4())
