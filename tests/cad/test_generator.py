import json

import numpy as np
import trimesh

from arinspect.cad.generator import generate_section
from arinspect.cad.section import load_section
from arinspect.cad.validate import validate_section
from arinspect.geometry import invert_T, transform_points


def test_generated_section_is_valid_and_sized_like_a_real_block(generated_section_dir):
    assert validate_section(generated_section_dir) == []
    section = load_section(generated_section_dir)
    assert 30 <= len(section.parts) <= 80
    assert 6 <= len(section.markers) <= 12
    assert sum(m.control for m in section.markers) >= 3
    kinds = {s.kind for s in section.structure}
    assert {"shell_plate", "longitudinal", "web_frame", "pipe"} <= kinds
    classes = {p.class_name for p in section.parts}
    assert len(classes) >= 8, classes
    assert len({m.id for m in section.markers}) == len(section.markers)


def test_same_seed_same_section_other_seed_other_section(tmp_path, generated_section_dir):
    generate_section(5, tmp_path / "again")
    generate_section(6, tmp_path / "other")
    first = json.loads((generated_section_dir / "section.json").read_text())
    assert json.loads((tmp_path / "again" / "section.json").read_text()) == first
    assert json.loads((tmp_path / "other" / "section.json").read_text()) != first


def _surface_distance(section, structure_id, pts_section):
    element = next(s for s in section.structure if s.id == structure_id)
    mesh = section.mesh(element)
    pts = transform_points(invert_T(element.T_section_part), pts_section)
    _, distance, _ = trimesh.proximity.closest_point(mesh, pts)
    return distance


def test_surface_parts_and_markers_sit_on_the_steel_they_are_mounted_on(generated_section_dir):
    section = load_section(generated_section_dir)
    for part in section.parts:
        mesh = section.mesh(part)
        if mesh.bounds[0][2] < -1e-6:  # inline parts (valves, flanges) sit on a pipe axis
            continue
        contact_face = mesh.vertices[np.abs(mesh.vertices[:, 2]) < 1e-6]
        distance = _surface_distance(
            section, part.mounted_on, transform_points(part.T_section_part, contact_face)
        )
        touching = np.mean(distance < 0.002)
        assert touching > 0.25, (
            f"{part.id}: only {touching:.0%} of its foot touches {part.mounted_on}"
        )
    for marker in section.markers:
        distance = _surface_distance(
            section, marker.mounted_on, marker.T_section_marker[:3, 3][None]
        )
        assert distance[0] < 0.002, (
            f"marker {marker.id} is {distance[0] * 1000:.1f} mm off the steel"
        )


def test_markers_are_clear_of_parts(generated_section_dir):
    section = load_section(generated_section_dir)
    for marker in section.markers:
        corners = np.array([[x, y, 0.0] for x in (-1, 1) for y in (-1, 1)]) * marker.size_m / 2
        pts = transform_points(marker.T_section_marker, corners)
        for part in section.parts:
            lo, hi = section.mesh(part).bounds
            pts_part = transform_points(invert_T(part.T_section_part), pts)
            inside = np.all((pts_part > lo - 1e-3) & (pts_part < hi + 1e-3), axis=1)
            assert not inside.any(), f"marker {marker.id} overlaps {part.id}"


def test_bundled_sample_is_what_the_generator_makes(tmp_path):
    from arinspect.resources import SAMPLE_SECTION_DIR

    generate_section(2, tmp_path / "sample")
    fresh = json.loads((tmp_path / "sample" / "section.json").read_text())
    assert fresh == json.loads((SAMPLE_SECTION_DIR / "section.json").read_text()), (
        "regenerate with `arinspect section generate --seed 2 --out models/sections/sample`"
    )
